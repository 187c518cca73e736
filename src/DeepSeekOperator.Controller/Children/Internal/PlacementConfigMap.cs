using DeepSeekOperator.Controller.Placement;
using DeepSeekOperator.Serving.Placement;
using k8s.Models;

namespace DeepSeekOperator.Controller.Children.Internal;

/// <summary>
/// The placement ConfigMaps, <c>&lt;model&gt;-placement</c> for the routers and <c>&lt;model&gt;-placement-shard-&lt;k&gt;</c>
/// per shard, the record of the published placement (<see cref="PublishedPlacement"/>): a Contiguous placement over
/// <c>spec.experts.shards</c>, with <c>spec.experts.redundantSlots</c> spare slots per shard filled round robin, at
/// revision 1 when there are none; kept as they are while they fit the spec (the rebalancer writes newer revisions); a
/// Contiguous placement at the next revision in every one when the spec no longer fits them.
/// </summary>
internal static class PlacementConfigMap
{
    /// <summary>The first revision, for the placement of a model's first rollout.</summary>
    public const long FirstRevision = 1;

    /// <summary>
    /// The record the ConfigMaps should hold, and whether it is the published one (so not to be written): the
    /// published placements when they fit, else a Contiguous placement at the revision after the newest published one.
    /// </summary>
    /// <param name="context">The model.</param>
    /// <param name="published">The ConfigMap of a name in the model's namespace as it is; null when there is none.</param>
    public static (PublishedPlacement Record, bool Kept) Resolve(ChildContext context, Func<string, V1ConfigMap?> published)
    {
        var (shards, slots) = (context.Spec.Experts.Shards, context.SlotsPerShard);
        try
        {
            return (PublishedPlacement.Read(published, context.Config, context.Name, shards, slots), true);
        }
        catch (PlacementException)
        {
            // None yet, or the spec changed the shape (or the data was edited): start over from the next revision.
        }

        var names = Enumerable.Range(0, shards).Select(k => PublishedPlacement.ShardConfigMap(context.Name, k)).Prepend(context.PlacementName);
        var revision = Math.Max(FirstRevision, PublishedPlacement.NewestRevision(names.Select(published)) + 1);
        return (PublishedPlacement.Uniform(PlacementGenerator.Contiguous(context.Config, context.Name, revision, shards, slots)), false);
    }

    /// <summary>The routers' ConfigMap; with <paramref name="written"/>'s placement, or without data (left as it is) when null.</summary>
    public static V1ConfigMap Routers(ChildContext context, PublishedPlacement? written) => Build(context, context.PlacementName, null, written?.Routers);

    /// <summary>Shard <paramref name="shard"/>'s ConfigMap; with <paramref name="written"/>'s placement, or without data when null.</summary>
    public static V1ConfigMap Shard(ChildContext context, int shard, PublishedPlacement? written) =>
        Build(context, PublishedPlacement.ShardConfigMap(context.Name, shard), shard, written?.Shards[shard]);

    private static V1ConfigMap Build(ChildContext context, string name, int? shard, ExpertPlacement? placement) => new()
    {
        ApiVersion = "v1",
        Kind = "ConfigMap",
        Metadata = context.Meta(name, ChildLabels.Placement, shard),
        Data = placement is null ? null : PublishedPlacement.Data(placement),
    };
}
