package dev.nearline.triton;

import dev.nearline.api.DataType;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Deterministic records for a signature: every datatype, dynamic dimensions set to a given extent. */
final class Records {
    private static final String[] WORDS = {"alpha", "", "héllo wörld", "日本語", "a\"b\\c", "tab\there", "emoji 🙂"};

    private Records() {
    }

    /** A record for {@code signature} with dynamic dimensions of {@code dynamic} and values from {@code seed}. */
    static Tensors of(ModelSignature signature, long dynamic, int seed) {
        Tensors.Builder b = Tensors.builder();
        for (TensorSpec spec : signature.inputs()) {
            long[] shape = spec.shape();
            for (int i = 0; i < shape.length; i++) {
                if (shape[i] < 0) {
                    shape[i] = dynamic;
                }
            }
            b.add(spec.name(), tensor(spec.type(), shape, seed));
        }
        return b.build();
    }

    static Tensor tensor(DataType type, long[] shape, int seed) {
        int n = Tensor.elementCount(shape);
        if (type == DataType.BYTES) {
            String[] s = new String[n];
            for (int i = 0; i < n; i++) {
                s[i] = WORDS[(i + seed) % WORDS.length];
            }
            return Tensor.ofStrings(s, shape);
        }
        ByteBuffer le = ByteBuffer.allocate(n * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            int k = i + seed * 7;
            float f = (k % 11) * 0.37f - 1.5f;
            switch (type) {
                case BOOL:
                    le.put((byte) (k % 3 == 0 ? 1 : 0));
                    break;
                case UINT8:
                    le.put((byte) (k * 37 + 200));
                    break;
                case INT8:
                    le.put((byte) (k * 29 - 100));
                    break;
                case INT16:
                    le.putShort((short) (k * 1234 - 20000));
                    break;
                case INT32:
                    le.putInt(k * 123456789);
                    break;
                case INT64:
                    le.putLong(k * 9_876_543_210_123L - 5);
                    break;
                case FP16:
                    le.putShort(Tensor.floatToHalf(f));
                    break;
                case BF16:
                    le.putShort(Tensor.floatToBfloat16(f));
                    break;
                case FP32:
                    le.putFloat(f);
                    break;
                case FP64:
                    le.putDouble(f * 1.000001 + k * 1e-9);
                    break;
                default:
                    throw new AssertionError(type);
            }
        }
        return Tensor.fromLittleEndian(type, le.flip(), shape);
    }
}
