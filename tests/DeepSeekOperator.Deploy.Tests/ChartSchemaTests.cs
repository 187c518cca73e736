namespace DeepSeekOperator.Deploy.Tests;

/// <summary>values.schema.json: a wrong values file fails <c>helm template</c> with the path of the value and why.</summary>
public sealed class ChartSchemaTests
{
    [Theory]
    [InlineData("replicaCount: two", "at '/replicaCount': got string, want integer")]
    [InlineData("replicaCount: -1", "at '/replicaCount': minimum: got -1, want 0")]
    [InlineData("workers: 0", "at '/workers': minimum: got 0, want 1")]
    [InlineData("replicas: 2", "at '': additional properties 'replicas' not allowed")]
    [InlineData("image: {tag: v1, digset: sha256:0}", "at '/image': additional properties 'digset' not allowed")]
    [InlineData("image: {digest: 'sha256:abc'}", "at '/image/digest': 'sha256:abc' does not match pattern")]
    [InlineData("image: {pullPolicy: Sometimes}", "at '/image/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'")]
    [InlineData("runtime: {image: {digest: 'md5:0'}}", "at '/runtime/image/digest': 'md5:0' does not match pattern")]
    [InlineData("global: {imagePullSecrets: [regcred]}", "at '/global/imagePullSecrets/0': got string, want object")]
    [InlineData("global: {imageRegistryy: registry.example}", "at '/global': additional properties 'imageRegistryy' not allowed")]
    [InlineData("imagePullSecrets: [{secret: regcred}]", "at '/imagePullSecrets/0': missing property 'name'")]
    [InlineData("env: [{value: x}]", "at '/env/0': missing property 'name'")]
    [InlineData("env: [{name: A, value: 1}]", "at '/env/0/value': got number, want string")]
    [InlineData("env: [{name: A, valueFrom: x}]", "at '/env/0/valueFrom': got string, want object")]
    [InlineData("env: [{name: A, vaule: x}]", "at '/env/0': additional properties 'vaule' not allowed")]
    [InlineData("env: [{name: A, value: x, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]", "at '/env/0': 'not' failed")]
    [InlineData("podSecurityContext: {runAsNonroot: true}", "at '/podSecurityContext': additional properties 'runAsNonroot' not allowed")]
    [InlineData("podSecurityContext: {runAsUser: -1}", "at '/podSecurityContext/runAsUser': minimum: got -1, want 0")]
    [InlineData("podSecurityContext: {seccompProfile: {type: Default}}", "at '/podSecurityContext/seccompProfile/type': value must be one of 'RuntimeDefault', 'Localhost', 'Unconfined'")]
    [InlineData("securityContext: []", "at '/securityContext': got array, want object")]
    [InlineData("securityContext: {capabilities: {drop: ALL}}", "at '/securityContext/capabilities/drop': got string, want array")]
    [InlineData("securityContext: {readOnlyRootFileSystem: true}", "at '/securityContext': additional properties 'readOnlyRootFileSystem' not allowed")]
    [InlineData("watchNamespaces: [Team_A]", "at '/watchNamespaces/0': 'Team_A' does not match pattern")]
    [InlineData("watchNamespaces: team-a", "at '/watchNamespaces': got string, want array")]
    [InlineData("nodeSelector: {gpu: true}", "at '/nodeSelector/gpu': got boolean, want string")]
    [InlineData("metrics: {port: 70000}", "at '/metrics/port': maximum: got 70,000, want 65,535")]
    [InlineData("metrics: {serviceMonitor: {enabled: maybe}}", "at '/metrics/serviceMonitor/enabled': value must be one of 'auto', true, false")]
    [InlineData("prometheusRule: {enabled: yes please}", "at '/prometheusRule/enabled': value must be one of 'auto', true, false")]
    [InlineData("models: [{name: tiny}]", "at '/models/0': missing property 'spec'")]
    [InlineData("models: [{name: Tiny, spec: {model: {}}}]", "at '/models/0/name': 'Tiny' does not match pattern")]
    public async Task BadValues_RejectedByTheSchema_WithThePathAndTheReason(string values, string message)
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, values + "\n");

            var template = await Tools.HelmAsync("template", Tools.Release, Tools.Chart, "-f", file);

            Assert.NotEqual(0, template.ExitCode);
            Assert.Contains("values don't meet the specifications of the schema(s)", template.Error, StringComparison.Ordinal);
            Assert.Contains(message, template.Error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
