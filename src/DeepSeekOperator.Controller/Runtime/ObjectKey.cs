using k8s;
using k8s.Models;

namespace DeepSeekOperator.Controller.Runtime;

/// <summary>The namespace and name of an object: what a reconcile request carries (controller-runtime's <c>reconcile.Request</c>).</summary>
/// <param name="Namespace">The object's namespace; empty for a cluster-scoped object.</param>
/// <param name="Name">The object's name.</param>
public readonly record struct ObjectKey(string Namespace, string Name)
{
    /// <summary>The key of <paramref name="obj"/>.</summary>
    public static ObjectKey Of(IKubernetesObject<V1ObjectMeta> obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return new ObjectKey(obj.Metadata.NamespaceProperty ?? "", obj.Metadata.Name);
    }

    /// <summary><c>namespace/name</c>, or the name alone for a cluster-scoped object, as client-go writes keys.</summary>
    public override string ToString() => Namespace.Length == 0 ? Name : Namespace + "/" + Name;
}
