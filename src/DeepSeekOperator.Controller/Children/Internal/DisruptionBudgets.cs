using k8s.Models;

namespace DeepSeekOperator.Controller.Children.Internal;

/// <summary>PodDisruptionBudgets that let a voluntary disruption (a node drain) take one router, or one replica of a shard, at a time.</summary>
internal static class DisruptionBudgets
{
    public static V1PodDisruptionBudget Router(ChildContext context) =>
        Build(context, context.RouterName, ChildLabels.Router, shard: null);

    public static V1PodDisruptionBudget Shard(ChildContext context, int shard) =>
        Build(context, context.ShardName(shard), ChildLabels.ShardComponent, shard);

    private static V1PodDisruptionBudget Build(ChildContext context, string name, string component, int? shard) => new()
    {
        ApiVersion = "policy/v1",
        Kind = "PodDisruptionBudget",
        Metadata = context.Meta(name, component, shard),
        Spec = new V1PodDisruptionBudgetSpec
        {
            MaxUnavailable = 1,
            Selector = new V1LabelSelector { MatchLabels = context.Selector(component, shard) },
        },
    };
}
