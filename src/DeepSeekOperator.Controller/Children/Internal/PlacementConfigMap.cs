using DeepSeekOperator.Controller.Placement;
using DeepSeekOperator.Serving.Placement;
using k8s.Models;

namespace DeepSeekOperator.Controller.Children.Internal;

/// <summary>
/// The placement ConfigMap <c>&lt;model&gt;-placement</c>, the record of the published placement
/// (<see cref="PublishedPlacement"/>): a Contiguous placement over <c>spec.experts.shards</c>, with
/// <c>spec.experts.redundantSlots</c> spare slots per shard filled round robin, at revision 1 when the ConfigMap is
/// created; kept as it is while it fits the spec (the rebalancer writes newer revisions); a Contiguous placement at
/// the next revision when the spec no longer fits it.
/// </summary>
internal static class PlacementConfigMap
{
    /// <summary>The first revision, for the placement of a model's first rollout.</summary>
    public const long FirstRevision = 1;

    /// <summary>
    /// The record the ConfigMap should hold, and whether it is <paramref name="published"/>'s own (so not to be written):
    /// the published data when it fits, else a Contiguous placement at the revision after the newest published one.
    /// </summary>
    public static (PublishedPlacement Record, bool Kept) Resolve(ChildContext context, V1ConfigMap? published)
    {
        var (shards, slots) = (context.Spec.Experts.Shards, context.SlotsPerShard);
        if (published is not null)
        {
            try
            {
                return (PublishedPlacement.Read(published.Data, context.Config, context.Name, shards, slots), true);
            }
            catch (PlacementException)
            {
                // The spec changed the shape (or the data was edited): start over from the next revision.
            }
        }

        var revision = published is null ? FirstRevision : PublishedPlacement.NewestRevision(published.Data) + 1;
        return (PublishedPlacement.Uniform(PlacementGenerator.Contiguous(context.Config, context.Name, revision, shards, slots)), false);
    }

    /// <summary>The ConfigMap; with <paramref name="written"/>'s data, or without data (left as it is) when null.</summary>
    public static V1ConfigMap Build(ChildContext context, PublishedPlacement? written) => new()
    {
        ApiVersion = "v1",
        Kind = "ConfigMap",
        Metadata = context.Meta(context.PlacementName, ChildLabels.Placement),
        Data = written?.Data(),
    };
}
