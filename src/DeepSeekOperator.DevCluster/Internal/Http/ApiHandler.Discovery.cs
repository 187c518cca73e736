using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Resources;
using Microsoft.AspNetCore.Http;

namespace DeepSeekOperator.DevCluster.Internal.Http;

/// <summary>Discovery, <c>/version</c>, health and the OpenAPI v3 documents kubectl reads.</summary>
internal sealed partial class ApiHandler
{
    private static readonly string[] BuiltinPatchTypes =
        ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"];

    private static readonly string[] CustomPatchTypes = ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"];

    private async Task<bool> TryServeNonResourceAsync(HttpContext context, string path)
    {
        var trimmed = path.TrimEnd('/');
        switch (trimmed)
        {
            case "/healthz" or "/livez" or "/readyz":
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync("ok", context.RequestAborted);
                return true;
            case "/version":
                await WriteJsonAsync(context, 200, new JsonObject
                {
                    ["major"] = settings.Major,
                    ["minor"] = settings.Minor,
                    ["gitVersion"] = settings.GitVersion,
                    ["gitCommit"] = "",
                    ["gitTreeState"] = "clean",
                    ["buildDate"] = "2026-01-01T00:00:00Z",
                    ["goVersion"] = "",
                    ["compiler"] = "dotnet",
                    ["platform"] = "linux/amd64",
                });
                return true;
            case "/api":
                await WriteJsonAsync(context, 200, new JsonObject
                {
                    ["kind"] = "APIVersions",
                    ["versions"] = new JsonArray("v1"),
                    ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject
                    {
                        ["clientCIDR"] = "0.0.0.0/0",
                        ["serverAddress"] = context.Request.Host.Value ?? "127.0.0.1",
                    }),
                });
                return true;
            case "/apis":
                await WriteJsonAsync(context, 200, new JsonObject
                {
                    ["kind"] = "APIGroupList",
                    ["apiVersion"] = "v1",
                    ["groups"] = new JsonArray([.. Registry.Groups.Select(g => (JsonNode)GroupDocument(g.Group, g.Versions))]),
                });
                return true;
            case "/openapi/v3":
                await WriteJsonAsync(context, 200, OpenApiRoot());
                return true;
            case "/openapi/v2":
                throw ApiException.UnknownPath();
            default:
                break;
        }

        var segments = trimmed.Trim('/').Split('/');
        if (segments is ["api", var coreVersion] && context.Request.Method == "GET")
        {
            if (coreVersion != "v1")
            {
                throw ApiException.UnknownPath();
            }

            await WriteJsonAsync(context, 200, ResourceList("", "v1"));
            return true;
        }

        if (segments is ["apis", var group] && context.Request.Method == "GET")
        {
            var found = Registry.Groups.FirstOrDefault(g => g.Group == group);
            if (found.Group is null)
            {
                throw ApiException.UnknownPath();
            }

            var document = GroupDocument(found.Group, found.Versions);
            document["kind"] = "APIGroup";
            document["apiVersion"] = "v1";
            await WriteJsonAsync(context, 200, document);
            return true;
        }

        if (segments is ["apis", var g2, var v2] && context.Request.Method == "GET")
        {
            if (Registry.InGroupVersion(g2, v2).Count == 0)
            {
                throw ApiException.UnknownPath();
            }

            await WriteJsonAsync(context, 200, ResourceList(g2, v2));
            return true;
        }

        if (segments.Length >= 3 && segments[0] == "openapi" && segments[1] == "v3")
        {
            var (docGroup, docVersion) = segments[2] == "api" && segments.Length == 4 ? ("", segments[3])
                : segments[2] == "apis" && segments.Length == 5 ? (segments[3], segments[4])
                : throw ApiException.UnknownPath();
            if (Registry.InGroupVersion(docGroup, docVersion).Count == 0)
            {
                throw ApiException.UnknownPath();
            }

            await WriteJsonAsync(context, 200, OpenApiDocument(docGroup, docVersion));
            return true;
        }

        return false;
    }

    private static JsonObject GroupDocument(string group, IReadOnlyList<string> versions)
    {
        var list = new JsonArray([.. versions.Select(v => (JsonNode)new JsonObject { ["groupVersion"] = $"{group}/{v}", ["version"] = v })]);
        return new JsonObject
        {
            ["name"] = group,
            ["versions"] = list,
            ["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{group}/{versions[0]}", ["version"] = versions[0] },
        };
    }

    private JsonObject ResourceList(string group, string version)
    {
        var resources = new JsonArray();
        foreach (var type in Registry.InGroupVersion(group, version).OrderBy(t => t.Plural, StringComparer.Ordinal))
        {
            var entry = new JsonObject
            {
                ["name"] = type.Plural,
                ["singularName"] = type.Singular,
                ["namespaced"] = type.Namespaced,
                ["kind"] = type.Kind,
                ["verbs"] = new JsonArray([.. type.Verbs.Select(v => (JsonNode)v)]),
            };
            if (type.ShortNames.Count > 0)
            {
                entry["shortNames"] = new JsonArray([.. type.ShortNames.Select(s => (JsonNode)s)]);
            }

            if (type.Categories.Count > 0)
            {
                entry["categories"] = new JsonArray([.. type.Categories.Select(c => (JsonNode)c)]);
            }

            entry["storageVersionHash"] = StorageVersionHash(type);
            resources.Add(entry);
            if (type.HasStatus)
            {
                resources.Add(Subresource(type, "status", type.Kind, null, ["get", "patch", "update"]));
            }

            if (type.Scale is not null)
            {
                resources.Add(Subresource(type, "scale", "Scale", ("autoscaling", "v1"), ["get", "patch", "update"]));
            }

            foreach (var extra in type.ExtraSubresources)
            {
                resources.Add(extra switch
                {
                    "log" => Subresource(type, extra, "Pod", null, ["get"]),
                    "binding" => Subresource(type, extra, "Binding", null, ["create"]),
                    "finalize" => Subresource(type, extra, type.Kind, null, ["update"]),
                    _ => Subresource(type, extra, type.Kind, null, ["get"]),
                });
            }
        }

        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : $"{group}/{version}",
            ["resources"] = resources,
        };
    }

    private static JsonObject Subresource(ResourceType type, string name, string kind, (string Group, string Version)? gv, string[] verbs)
    {
        var entry = new JsonObject
        {
            ["name"] = $"{type.Plural}/{name}",
            ["singularName"] = "",
            ["namespaced"] = type.Namespaced,
        };
        if (gv is { } groupVersion)
        {
            entry["group"] = groupVersion.Group;
            entry["version"] = groupVersion.Version;
        }

        entry["kind"] = kind;
        entry["verbs"] = new JsonArray([.. verbs.Select(v => (JsonNode)v)]);
        return entry;
    }

    private static string StorageVersionHash(ResourceType type)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes($"{type.Group}/{type.PreferredVersion}/{type.Kind}"));
        return Convert.ToBase64String(digest, 0, 8);
    }

    private JsonObject OpenApiRoot()
    {
        var paths = new JsonObject();
        var groupVersions = new List<(string Group, string Version)> { ("", "v1") };
        groupVersions.AddRange(Registry.Groups.SelectMany(g => g.Versions.Select(v => (g.Group, v))));
        foreach (var (group, version) in groupVersions)
        {
            var key = group.Length == 0 ? $"api/{version}" : $"apis/{group}/{version}";
            var hash = Convert.ToHexString(SHA256.HashData(StorageHashInput(group, version)))[..32];
            paths[key] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{key}?hash={hash}" };
        }

        return new JsonObject { ["paths"] = paths };
    }

    private byte[] StorageHashInput(string group, string version) =>
        Encoding.UTF8.GetBytes(string.Join(";", Registry.InGroupVersion(group, version).Select(t => $"{t.Plural}:{t.Custom?.CrdUid}:{t.Custom?.Version(version)?.Schema?.ToJsonString().Length}")));

    /// <summary>
    /// The OpenAPI v3 document of one group version: every path with its operations, each tagged with
    /// <c>x-kubernetes-group-version-kind</c>, the <c>fieldValidation</c> parameter (which makes kubectl validate
    /// on the server), and the patch media types the resource accepts (which tells kubectl whether a strategic
    /// merge patch is possible). Custom resources also carry their schema.
    /// </summary>
    private JsonObject OpenApiDocument(string group, string version)
    {
        var paths = new JsonObject();
        var schemas = new JsonObject();
        var prefix = group.Length == 0 ? $"/api/{version}" : $"/apis/{group}/{version}";
        foreach (var type in Registry.InGroupVersion(group, version))
        {
            var gvk = new JsonObject { ["group"] = group, ["version"] = version, ["kind"] = type.Kind };
            var collection = type.Namespaced ? $"{prefix}/namespaces/{{namespace}}/{type.Plural}" : $"{prefix}/{type.Plural}";
            var patchTypes = type.Custom is null ? BuiltinPatchTypes : CustomPatchTypes;
            paths[collection] = new JsonObject
            {
                ["get"] = Operation("list", gvk, []),
                ["post"] = Operation("post", gvk, ["application/json", "application/yaml"]),
                ["delete"] = Operation("deletecollection", gvk, []),
            };
            paths[$"{collection}/{{name}}"] = new JsonObject
            {
                ["get"] = Operation("get", gvk, []),
                ["put"] = Operation("put", gvk, ["application/json", "application/yaml"]),
                ["patch"] = Operation("patch", gvk, patchTypes),
                ["delete"] = Operation("delete", gvk, []),
            };
            if (type.HasStatus)
            {
                paths[$"{collection}/{{name}}/status"] = new JsonObject
                {
                    ["get"] = Operation("get", gvk, []),
                    ["put"] = Operation("put", gvk, ["application/json", "application/yaml"]),
                    ["patch"] = Operation("patch", gvk, patchTypes),
                };
            }

            if (type.Custom?.Version(version)?.Schema is { } schema)
            {
                var component = (JsonObject)schema.DeepClone();
                component["x-kubernetes-group-version-kind"] = new JsonArray(gvk.DeepClone());
                var name = $"{ReverseDomain(group)}.{version}.{type.Kind}";
                schemas[name] = component;
            }
        }

        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = settings.GitVersion },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = schemas },
        };
    }

    private static JsonObject Operation(string action, JsonObject gvk, string[] mediaTypes)
    {
        var operation = new JsonObject
        {
            ["x-kubernetes-action"] = action,
            ["x-kubernetes-group-version-kind"] = gvk.DeepClone(),
            ["parameters"] = new JsonArray(
                new JsonObject { ["name"] = "dryRun", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } },
                new JsonObject { ["name"] = "fieldManager", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } },
                new JsonObject { ["name"] = "fieldValidation", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } }),
            ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK" } },
        };
        if (mediaTypes.Length > 0)
        {
            var content = new JsonObject();
            foreach (var mediaType in mediaTypes)
            {
                content[mediaType] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "object" } };
            }

            operation["requestBody"] = new JsonObject { ["content"] = content, ["required"] = true };
        }

        return operation;
    }

    private static string ReverseDomain(string group) => string.Join('.', group.Split('.').Reverse());
}
