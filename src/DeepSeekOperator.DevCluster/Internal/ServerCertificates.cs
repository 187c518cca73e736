using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DeepSeekOperator.DevCluster.Internal;

/// <summary>
/// The emulator's own certificate authority and the serving certificate it signs for 127.0.0.1 and localhost,
/// kept in the state directory (<c>pki/</c>) when there is one, so kubeconfigs stay valid across restarts.
/// </summary>
internal sealed class ServerCertificates : IDisposable
{
    private ServerCertificates(X509Certificate2 authority, X509Certificate2 serving)
    {
        Authority = authority;
        Serving = serving;
    }

    /// <summary>The certificate authority (public part), for kubeconfigs and clients.</summary>
    public X509Certificate2 Authority { get; }

    /// <summary>The serving certificate with its private key.</summary>
    public X509Certificate2 Serving { get; }

    public string AuthorityPem => Authority.ExportCertificatePem();

    public static ServerCertificates LoadOrCreate(string? stateDirectory, TimeProvider time)
    {
        var pki = stateDirectory is null ? null : Path.Combine(stateDirectory, "pki");
        if (pki is not null && File.Exists(Path.Combine(pki, "ca.crt")) && File.Exists(Path.Combine(pki, "server.crt")))
        {
            var authority = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(pki, "ca.crt")));
            var serving = X509Certificate2.CreateFromPemFile(Path.Combine(pki, "server.crt"), Path.Combine(pki, "server.key"));
            if (serving.NotAfter > time.GetUtcNow().UtcDateTime.AddDays(1))
            {
                return new ServerCertificates(authority, Exportable(serving));
            }
        }

        var created = Create(time);
        if (pki is not null)
        {
            Directory.CreateDirectory(pki);
            File.WriteAllText(Path.Combine(pki, "ca.crt"), created.AuthorityPem);
            File.WriteAllText(Path.Combine(pki, "server.crt"), created.Serving.ExportCertificatePem());
            using var key = created.Serving.GetECDsaPrivateKey()!;
            var keyPath = Path.Combine(pki, "server.key");
            File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        return created;
    }

    public void Dispose()
    {
        Authority.Dispose();
        Serving.Dispose();
    }

    private static ServerCertificates Create(TimeProvider time)
    {
        var now = time.GetUtcNow();
        using var authorityKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var authorityRequest = new CertificateRequest("CN=dsop-dev-cluster-ca", authorityKey, HashAlgorithmName.SHA256);
        authorityRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        authorityRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        authorityRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(authorityRequest.PublicKey, false));
        using var authority = authorityRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));

        using var servingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var servingRequest = new CertificateRequest("CN=dsop-dev-cluster", servingKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        names.AddDnsName("kubernetes.default.svc");
        servingRequest.CertificateExtensions.Add(names.Build());
        servingRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        servingRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        servingRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        servingRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var signed = servingRequest.Create(authority, now.AddMinutes(-5), now.AddYears(1), serial);
        using var withKey = signed.CopyWithPrivateKey(servingKey);
        return new ServerCertificates(X509CertificateLoader.LoadCertificate(authority.RawData), Exportable(withKey));
    }

    // Kestrel on Linux needs the key in an exportable, PKCS#12-backed form.
    private static X509Certificate2 Exportable(X509Certificate2 certificate) =>
        X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable);
}
