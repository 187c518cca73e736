using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace DeepSeekOperator.Moe.Internal;

/// <summary>
/// A float32 linear weight <c>W [N, K]</c> repacked for products with a few rows, <c>y = x · Wᵀ</c>: the weight
/// is stored in panels of 32 output columns, each panel K rows of 32 contiguous values, and an AVX-512 kernel keeps
/// 12 rows × 32 columns of results in registers while it streams a panel once, broadcasting the inputs. For the
/// 10–100 rows an expert sees per step this runs markedly faster than a general BLAS call, which is tuned for
/// large square products. Used on x86 CPUs with AVX-512 only; elsewhere experts go through libtorch.
/// </summary>
internal sealed unsafe partial class PackedWeight : IDisposable
{
    private const int Panel = 32;
    private float* _packed;

    /// <summary>Packs a contiguous float32 CPU weight whose row count is a multiple of 32.</summary>
    public PackedWeight(Tensor weight)
    {
        Rows = (int)weight.shape[0];
        Columns = (int)weight.shape[1];
        using var source = weight.contiguous();
        var values = (float*)TensorData(source);
        var length = (nuint)Rows * (nuint)Columns;
        _packed = (float*)NativeMemory.AlignedAlloc(length * sizeof(float), 64);
        for (var panel = 0; panel < Rows / Panel; panel++)
        {
            var target = _packed + ((long)panel * Columns * Panel);
            for (var j = 0; j < Panel; j++)
            {
                var row = values + ((long)((panel * Panel) + j) * Columns);
                for (var k = 0; k < Columns; k++)
                {
                    target[((long)k * Panel) + j] = row[k];
                }
            }
        }
    }

    /// <summary>N: outputs per row.</summary>
    public int Rows { get; }

    /// <summary>K: inputs per row.</summary>
    public int Columns { get; }

    /// <summary>Whether this machine runs the kernel, and a weight of this shape fits it.</summary>
    public static bool Fits(Tensor weight) =>
        Avx512F.IsSupported && weight.dtype == ScalarType.Float32 && weight.device_type == TorchSharp.DeviceType.CPU
        && weight.dim() == 2 && weight.shape[0] % Panel == 0;

    /// <summary><c>x [m, K] · Wᵀ</c> as a new <c>[m, N]</c> float32 tensor; <paramref name="x"/> must be contiguous float32 on the CPU.</summary>
    public Tensor Multiply(Tensor x)
    {
        ObjectDisposedException.ThrowIf(_packed is null, this);
        if (x.dim() != 2 || x.shape[1] != Columns || x.dtype != ScalarType.Float32 || !x.is_contiguous())
        {
            throw new ArgumentException($"input [{string.Join(", ", x.shape)}] {x.dtype} does not fit a packed [{Rows}, {Columns}] float32 weight", nameof(x));
        }

        var m = (int)x.shape[0];
        var y = empty([m, Rows], ScalarType.Float32);
        Multiply((float*)TensorData(x), m, (float*)TensorData(y));
        return y;
    }

    private void Multiply(float* x, int m, float* y)
    {
        for (var panel = 0; panel < Rows / Panel; panel++)
        {
            var weights = _packed + ((long)panel * Columns * Panel);
            var output = y + (panel * Panel);
            var row = 0;
            for (; row + 12 <= m; row += 12)
            {
                Kernel12(x + ((long)row * Columns), weights, output + ((long)row * Rows));
            }

            for (; row + 4 <= m; row += 4)
            {
                Kernel4(x + ((long)row * Columns), weights, output + ((long)row * Rows));
            }

            for (; row < m; row++)
            {
                Kernel1(x + ((long)row * Columns), weights, output + ((long)row * Rows));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Kernel12(float* x, float* panel, float* y)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default, ca0 = default, ca1 = default, cb0 = default, cb1 = default;
        long l = Columns;
        for (var k = 0; k < Columns; k++)
        {
            var b0 = Vector512.Load(panel);
            var b1 = Vector512.Load(panel + 16);
            panel += Panel;
            var a = Vector512.Create(x[0]);
            c00 = Avx512F.FusedMultiplyAdd(a, b0, c00);
            c01 = Avx512F.FusedMultiplyAdd(a, b1, c01);
            a = Vector512.Create(x[l]);
            c10 = Avx512F.FusedMultiplyAdd(a, b0, c10);
            c11 = Avx512F.FusedMultiplyAdd(a, b1, c11);
            a = Vector512.Create(x[2 * l]);
            c20 = Avx512F.FusedMultiplyAdd(a, b0, c20);
            c21 = Avx512F.FusedMultiplyAdd(a, b1, c21);
            a = Vector512.Create(x[3 * l]);
            c30 = Avx512F.FusedMultiplyAdd(a, b0, c30);
            c31 = Avx512F.FusedMultiplyAdd(a, b1, c31);
            a = Vector512.Create(x[4 * l]);
            c40 = Avx512F.FusedMultiplyAdd(a, b0, c40);
            c41 = Avx512F.FusedMultiplyAdd(a, b1, c41);
            a = Vector512.Create(x[5 * l]);
            c50 = Avx512F.FusedMultiplyAdd(a, b0, c50);
            c51 = Avx512F.FusedMultiplyAdd(a, b1, c51);
            a = Vector512.Create(x[6 * l]);
            c60 = Avx512F.FusedMultiplyAdd(a, b0, c60);
            c61 = Avx512F.FusedMultiplyAdd(a, b1, c61);
            a = Vector512.Create(x[7 * l]);
            c70 = Avx512F.FusedMultiplyAdd(a, b0, c70);
            c71 = Avx512F.FusedMultiplyAdd(a, b1, c71);
            a = Vector512.Create(x[8 * l]);
            c80 = Avx512F.FusedMultiplyAdd(a, b0, c80);
            c81 = Avx512F.FusedMultiplyAdd(a, b1, c81);
            a = Vector512.Create(x[9 * l]);
            c90 = Avx512F.FusedMultiplyAdd(a, b0, c90);
            c91 = Avx512F.FusedMultiplyAdd(a, b1, c91);
            a = Vector512.Create(x[10 * l]);
            ca0 = Avx512F.FusedMultiplyAdd(a, b0, ca0);
            ca1 = Avx512F.FusedMultiplyAdd(a, b1, ca1);
            a = Vector512.Create(x[11 * l]);
            cb0 = Avx512F.FusedMultiplyAdd(a, b0, cb0);
            cb1 = Avx512F.FusedMultiplyAdd(a, b1, cb1);
            x++;
        }

        long d = Rows;
        Store(y, c00, c01);
        Store(y + d, c10, c11);
        Store(y + (2 * d), c20, c21);
        Store(y + (3 * d), c30, c31);
        Store(y + (4 * d), c40, c41);
        Store(y + (5 * d), c50, c51);
        Store(y + (6 * d), c60, c61);
        Store(y + (7 * d), c70, c71);
        Store(y + (8 * d), c80, c81);
        Store(y + (9 * d), c90, c91);
        Store(y + (10 * d), ca0, ca1);
        Store(y + (11 * d), cb0, cb1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Kernel4(float* x, float* panel, float* y)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        long l = Columns;
        for (var k = 0; k < Columns; k++)
        {
            var b0 = Vector512.Load(panel);
            var b1 = Vector512.Load(panel + 16);
            panel += Panel;
            var a = Vector512.Create(x[0]);
            c00 = Avx512F.FusedMultiplyAdd(a, b0, c00);
            c01 = Avx512F.FusedMultiplyAdd(a, b1, c01);
            a = Vector512.Create(x[l]);
            c10 = Avx512F.FusedMultiplyAdd(a, b0, c10);
            c11 = Avx512F.FusedMultiplyAdd(a, b1, c11);
            a = Vector512.Create(x[2 * l]);
            c20 = Avx512F.FusedMultiplyAdd(a, b0, c20);
            c21 = Avx512F.FusedMultiplyAdd(a, b1, c21);
            a = Vector512.Create(x[3 * l]);
            c30 = Avx512F.FusedMultiplyAdd(a, b0, c30);
            c31 = Avx512F.FusedMultiplyAdd(a, b1, c31);
            x++;
        }

        long d = Rows;
        Store(y, c00, c01);
        Store(y + d, c10, c11);
        Store(y + (2 * d), c20, c21);
        Store(y + (3 * d), c30, c31);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Kernel1(float* x, float* panel, float* y)
    {
        Vector512<float> c0 = default, c1 = default;
        for (var k = 0; k < Columns; k++)
        {
            var a = Vector512.Create(x[k]);
            c0 = Avx512F.FusedMultiplyAdd(a, Vector512.Load(panel), c0);
            c1 = Avx512F.FusedMultiplyAdd(a, Vector512.Load(panel + 16), c1);
            panel += Panel;
        }

        Store(y, c0, c1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* y, Vector512<float> low, Vector512<float> high)
    {
        low.Store(y);
        high.Store(y + 16);
    }

    /// <summary>The address of a tensor's first element (its storage offset included).</summary>
    private static nint TensorData(Tensor tensor) => NativeMethods.THSTensor_data(tensor.Handle);

    public void Dispose()
    {
        if (_packed is not null)
        {
            NativeMemory.AlignedFree(_packed);
            _packed = null;
        }
    }

    private static partial class NativeMethods
    {
        [LibraryImport("LibTorchSharp")]
        public static partial nint THSTensor_data(nint handle);
    }
}
