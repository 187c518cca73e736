// Prints each failed test of the TRX files given, with the head of its message, so that the end of a test run's
// output (all a CI log may keep) says what failed and why. Usage: dotnet run build/failed-tests.cs -- FILE.trx...
using System.Xml.Linq;

const int MaxLines = 30;
XNamespace trx = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";
foreach (var file in args)
{
    foreach (var result in XDocument.Load(file).Descendants(trx + "UnitTestResult").Where(r => (string?)r.Attribute("outcome") is not ("Passed" or "NotExecuted")))
    {
        Console.WriteLine($"FAILED {result.Attribute("testName")?.Value} ({Path.GetFileNameWithoutExtension(file)})");
        var message = result.Descendants(trx + "Message").FirstOrDefault()?.Value ?? "(no message)";
        var lines = message.Split('\n');
        foreach (var line in lines.Take(MaxLines))
        {
            Console.WriteLine($"  {line.TrimEnd()}");
        }

        if (lines.Length > MaxLines)
        {
            Console.WriteLine($"  ... ({lines.Length - MaxLines} more lines in {file})");
        }
    }
}
