using DeepSeekOperator.Moe;

namespace DeepSeekOperator.Serving.Placement;

/// <summary>The checks behind <see cref="ExpertPlacement.Validate"/>.</summary>
internal static class PlacementValidation
{
    public static List<string> Problems(ExpertPlacement placement, ModelConfig config)
    {
        var problems = new List<string>();
        if (placement.Revision < 0)
        {
            problems.Add($"revision must not be negative, got {placement.Revision}");
        }

        if (string.IsNullOrWhiteSpace(placement.ModelId))
        {
            problems.Add("modelId must not be empty");
        }

        if (placement.Shards < 1)
        {
            problems.Add($"shards must be at least 1, got {placement.Shards}");
        }

        if (placement.SlotsPerShard < 1)
        {
            problems.Add($"slotsPerShard must be at least 1, got {placement.SlotsPerShard}");
        }

        var experts = config.NRoutedExperts;
        if (placement.Shards >= 1 && placement.SlotsPerShard >= 1 && (long)placement.Shards * placement.SlotsPerShard < experts)
        {
            problems.Add($"{placement.Shards} shards × {placement.SlotsPerShard} slots cannot hold the model's {experts} routed experts");
        }

        foreach (var layer in MoeLayersListed(placement, config, problems))
        {
            CheckLayer(placement, layer, experts, problems);
        }

        return problems;
    }

    /// <summary>Checks that the entries name exactly the model's MoE layers, each once; returns those that do.</summary>
    private static List<LayerPlacement> MoeLayersListed(ExpertPlacement placement, ModelConfig config, List<string> problems)
    {
        var listed = new List<LayerPlacement>();
        var seen = new HashSet<int>();
        for (var i = 0; i < placement.Layers.Count; i++)
        {
            var layer = placement.Layers[i];
            if (layer is null)
            {
                problems.Add($"layers[{i}] is null");
            }
            else if (layer.Layer < 0 || layer.Layer >= config.NumHiddenLayers || !config.IsMoeLayer(layer.Layer))
            {
                problems.Add($"layer {layer.Layer} is not an MoE layer of the model ({config.NumHiddenLayers} layers, first_k_dense_replace {config.FirstKDenseReplace}, moe_layer_freq {config.MoeLayerFrequency})");
            }
            else if (!seen.Add(layer.Layer))
            {
                problems.Add($"layer {layer.Layer} is listed more than once");
            }
            else
            {
                listed.Add(layer);
            }
        }

        foreach (var layer in config.MoeLayers)
        {
            if (!seen.Contains(layer))
            {
                problems.Add($"MoE layer {layer} has no placement");
            }
        }

        return listed;
    }

    private static void CheckLayer(ExpertPlacement placement, LayerPlacement layer, int experts, List<string> problems)
    {
        if (placement.Shards >= 1 && layer.Experts.Count != placement.Shards)
        {
            problems.Add($"layer {layer.Layer} lists {layer.Experts.Count} shards, expected {placement.Shards}");
        }

        var held = new bool[experts];
        for (var shard = 0; shard < layer.Experts.Count; shard++)
        {
            var slots = layer.Experts[shard];
            if (slots is null)
            {
                problems.Add($"layer {layer.Layer} shard {shard} has no expert list");
                continue;
            }

            if (placement.SlotsPerShard >= 1 && slots.Count != placement.SlotsPerShard)
            {
                problems.Add($"layer {layer.Layer} shard {shard} holds {slots.Count} experts, expected slotsPerShard {placement.SlotsPerShard}");
            }

            var onShard = new HashSet<int>();
            foreach (var expert in slots)
            {
                if (expert < 0 || expert >= experts)
                {
                    problems.Add($"layer {layer.Layer} shard {shard}: expert {expert} is outside [0, {experts})");
                }
                else if (!onShard.Add(expert))
                {
                    problems.Add($"layer {layer.Layer} shard {shard} holds expert {expert} more than once");
                }
                else
                {
                    held[expert] = true;
                }
            }
        }

        var missing = Enumerable.Range(0, experts).Where(e => !held[e]).ToList();
        if (missing.Count > 0)
        {
            problems.Add($"layer {layer.Layer}: {(missing.Count == 1 ? "expert" : "experts")} {string.Join(", ", missing)} held by no shard");
        }
    }
}
