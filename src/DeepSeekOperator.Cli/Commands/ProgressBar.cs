using System.Globalization;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Moe.Safetensors;

namespace DeepSeekOperator.Cli.Commands;

/// <summary>
/// Draws checkpoint-loading progress on standard error: a redrawn bar on a terminal, or a line per tenth
/// when the output is a file or a pod log.
/// </summary>
internal sealed class ProgressBar(TextWriter writer, bool interactive) : IProgress<LoadProgress>
{
    private const int Width = 30;
    private int _lastTenth = -1;
    private bool _drawn;

    public void Report(LoadProgress value)
    {
        var fraction = value.BytesTotal > 0 ? (double)value.BytesLoaded / value.BytesTotal : value.TensorsTotal > 0 ? (double)value.TensorsLoaded / value.TensorsTotal : 1;
        var line = string.Create(CultureInfo.InvariantCulture, $"loading [{new string('#', (int)(fraction * Width)).PadRight(Width, '.')}] {fraction * 100,3:0}% {ModelInfo.Size(value.BytesLoaded)}/{ModelInfo.Size(value.BytesTotal)}, {value.TensorsLoaded}/{value.TensorsTotal} tensors");
        if (interactive)
        {
            writer.Write("\r" + line);
            _drawn = true;
            return;
        }

        var tenth = (int)(fraction * 10);
        if (tenth != _lastTenth)
        {
            _lastTenth = tenth;
            writer.WriteLine(line);
        }
    }

    /// <summary>Ends the bar's line.</summary>
    public void Finish()
    {
        if (_drawn)
        {
            writer.WriteLine();
            _drawn = false;
        }
    }
}
