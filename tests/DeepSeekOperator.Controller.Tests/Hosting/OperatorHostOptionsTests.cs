using DeepSeekOperator.Controller.Hosting;

namespace DeepSeekOperator.Controller.Tests.Hosting;

public sealed class OperatorHostOptionsTests
{
    public static TheoryData<string, string> BadOptions => new()
    {
        { "BindAddress", "localhost" },
        { "Port", "65536" },
        { "Kubeconfig", "/nonexistent/kubeconfig" },
        { "LeaseName", "Operator_Lease" },
        { "LeaseNamespace", "a.b" },
        { "Identity", " " },
        { "LeaseDuration", "1.5" },
        { "RenewDeadline", "15" },
        { "RetryPeriod", "9" },
    };

    [Fact]
    public void Defaults_AreControllerRuntimes_AndValid()
    {
        var options = new OperatorHostOptions();

        options.Validate();
        Assert.Equal((15, 10, 2), (options.LeaseDuration.TotalSeconds, options.RenewDeadline.TotalSeconds, options.RetryPeriod.TotalSeconds));
        Assert.True(options.ReleaseOnStop);
        Assert.True(options.ExitOnLostLeadership);
    }

    [Fact]
    public void NewIdentity_PodOrHostNameWithUniqueSuffix()
    {
        var (one, two) = (OperatorHostOptions.NewIdentity(), OperatorHostOptions.NewIdentity());

        Assert.NotEqual(one, two);
        var expected = Environment.GetEnvironmentVariable("POD_NAME") is { Length: > 0 } pod ? pod : Environment.MachineName;
        Assert.StartsWith(expected + "_", one, StringComparison.Ordinal);
        Assert.Equal(expected.Length + 33, one.Length);
    }

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Validate_BadValue_RejectedNamingTheOption(string option, string value)
    {
        var options = option switch
        {
            "BindAddress" => new OperatorHostOptions { BindAddress = value },
            "Port" => new OperatorHostOptions { Port = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
            "Kubeconfig" => new OperatorHostOptions { Kubeconfig = value },
            "LeaseName" => new OperatorHostOptions { LeaseName = value },
            "LeaseNamespace" => new OperatorHostOptions { LeaseNamespace = value },
            "Identity" => new OperatorHostOptions { Identity = value },
            _ => Timed(option, TimeSpan.FromSeconds(double.Parse(value, System.Globalization.CultureInfo.InvariantCulture))),
        };

        var error = Assert.ThrowsAny<ArgumentException>(options.Validate);

        Assert.Equal(option, error.ParamName);
        Assert.Contains(option, error.Message, StringComparison.Ordinal);
    }

    private static OperatorHostOptions Timed(string option, TimeSpan value) => option switch
    {
        "LeaseDuration" => new OperatorHostOptions { LeaseDuration = value },
        "RenewDeadline" => new OperatorHostOptions { RenewDeadline = value },
        _ => new OperatorHostOptions { RetryPeriod = value },
    };
}
