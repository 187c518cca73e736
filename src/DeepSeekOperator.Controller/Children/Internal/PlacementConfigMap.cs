using DeepSeekOperator.Serving.Placement;
using k8s.Models;

namespace DeepSeekOperator.Controller.Children.Internal;

/// <summary>
/// The placement ConfigMap <c>&lt;model&gt;-placement</c>: revision 1 of a Contiguous placement over
/// <c>spec.experts.shards</c>, with <c>spec.experts.redundantSlots</c> spare slots per shard filled round robin, in the
/// file format every router and shard reads (<see cref="ExpertPlacement"/>).
/// </summary>
internal static class PlacementConfigMap
{
    /// <summary>The first revision, for the placement of a model's first rollout.</summary>
    public const long FirstRevision = 1;

    public static ExpertPlacement Placement(ChildContext context) =>
        PlacementGenerator.Contiguous(context.Config, context.Name, FirstRevision, context.Spec.Experts.Shards, context.SlotsPerShard);

    public static V1ConfigMap Build(ChildContext context, ExpertPlacement placement) => new()
    {
        ApiVersion = "v1",
        Kind = "ConfigMap",
        Metadata = context.Meta(context.PlacementName, ChildLabels.Placement),
        Data = new Dictionary<string, string> { [ServingArgs.PlacementKey] = placement.Serialize() },
    };
}
