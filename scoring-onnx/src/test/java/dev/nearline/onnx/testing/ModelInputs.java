package dev.nearline.onnx.testing;

import dev.nearline.api.DataType;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.SplittableRandom;

/**
 * Inputs for a shared model, following the {@code checks.properties} keys of ../shared/models: a folder's
 * {@code test_data_set_0/input_<i>.pb}, or values generated from the signature. Used by the ONNX conformance
 * test and the Triton test that compares both backends, so both feed the models the same values.
 */
public final class ModelInputs {
    private ModelInputs() {
    }

    /** The folder's reference inputs where it has them, else generated ones. */
    public static Tensors of(Path folder, Properties checks, List<TensorSpec> specs) throws IOException {
        String name = folder.getFileName().toString();
        Path set = folder.resolve("test_data_set_0");
        Tensors.Builder b = Tensors.builder();
        for (int i = 0; i < specs.size(); i++) {
            TensorSpec spec = specs.get(i);
            Path reference = set.resolve("input_" + i + ".pb");
            b.add(spec.name(), Files.exists(reference) ? TensorProtos.readTensor(reference).tensor()
                    : generate(name, checks, spec, i));
        }
        return b.build();
    }

    /** Values for {@code spec} following the model's {@code checks.properties} keys (see that file's header). */
    public static Tensor generate(String model, Properties checks, TensorSpec spec, int index) {
        String pre = model + ".input." + spec.name() + ".";
        long[] shape;
        if (checks.getProperty(pre + "shape") != null) {
            shape = parseShape(checks.getProperty(pre + "shape"));
        } else if (spec.shape() == null) {
            shape = new long[0];
        } else {
            shape = spec.shape();
            long dim = Long.parseLong(checks.getProperty(model + ".dim", "2"));
            for (int d = 0; d < shape.length; d++) {
                if (shape[d] == -1) {
                    shape[d] = dim;
                }
            }
        }
        int n = Tensor.elementCount(shape);
        String values = checks.getProperty(pre + "values");
        if (spec.type() == DataType.BYTES) {
            String[] s = new String[n];
            String[] cycle = values == null ? null : values.split("\\|", -1);
            for (int i = 0; i < n; i++) {
                s[i] = cycle == null ? "s" + i : cycle[i % cycle.length];
            }
            return Tensor.ofStrings(s, shape);
        }
        double[] d = new double[n];
        if (values != null) {
            String[] cycle = values.split(values.contains("|") ? "\\|" : ",");
            for (int i = 0; i < n; i++) {
                d[i] = Double.parseDouble(cycle[i % cycle.length].trim());
            }
        } else {
            String gen = checks.getProperty(pre + "gen",
                    checks.getProperty(model + ".gen", spec.type().isFloatingPoint() ? "uniform" : "ints"));
            double lo = Double.parseDouble(checks.getProperty(pre + "lo", "0"));
            double hi = Double.parseDouble(checks.getProperty(pre + "hi", "1"));
            long mod = Long.parseLong(checks.getProperty(pre + "mod", spec.type() == DataType.BOOL ? "2" : "10"));
            long offset = Long.parseLong(checks.getProperty(pre + "offset", "0"));
            SplittableRandom random = new SplittableRandom(31L * index + model.hashCode());
            for (int i = 0; i < n; i++) {
                switch (gen) {
                    case "arange":
                        d[i] = (float) i / n;
                        break;
                    case "ints":
                        d[i] = (i * 7L + offset) % mod;
                        break;
                    default:
                        d[i] = random.nextDouble(lo, hi);
                }
            }
        }
        return typed(spec.type(), d, shape);
    }

    private static Tensor typed(DataType type, double[] d, long[] shape) {
        int n = d.length;
        switch (type) {
            case FP32: {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    v[i] = (float) d[i];
                }
                return Tensor.ofFloats(v, shape);
            }
            case FP64:
                return Tensor.ofDoubles(d, shape);
            case FP16:
            case BF16: {
                short[] v = new short[n];
                for (int i = 0; i < n; i++) {
                    v[i] = type == DataType.FP16 ? Tensor.floatToHalf((float) d[i]) : Tensor.floatToBfloat16((float) d[i]);
                }
                return type == DataType.FP16 ? Tensor.ofFloat16(v, shape) : Tensor.ofBFloat16(v, shape);
            }
            case INT64: {
                long[] v = new long[n];
                for (int i = 0; i < n; i++) {
                    v[i] = (long) d[i];
                }
                return Tensor.ofLongs(v, shape);
            }
            case INT32: {
                int[] v = new int[n];
                for (int i = 0; i < n; i++) {
                    v[i] = (int) d[i];
                }
                return Tensor.ofInts(v, shape);
            }
            case INT16: {
                short[] v = new short[n];
                for (int i = 0; i < n; i++) {
                    v[i] = (short) d[i];
                }
                return Tensor.ofShorts(v, shape);
            }
            case BOOL: {
                boolean[] v = new boolean[n];
                for (int i = 0; i < n; i++) {
                    v[i] = d[i] != 0;
                }
                return Tensor.ofBooleans(v, shape);
            }
            default: {
                byte[] v = new byte[n];
                for (int i = 0; i < n; i++) {
                    v[i] = (byte) d[i];
                }
                return type == DataType.UINT8 ? Tensor.ofUint8(v, shape) : Tensor.ofInt8(v, shape);
            }
        }
    }

    private static long[] parseShape(String s) {
        if (s.isBlank()) {
            return new long[0];
        }
        return Arrays.stream(s.split(",")).mapToLong(x -> Long.parseLong(x.trim())).toArray();
    }
}
