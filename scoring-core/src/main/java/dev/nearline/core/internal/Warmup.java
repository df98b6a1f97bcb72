package dev.nearline.core.internal;

import dev.nearline.api.DataType;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.api.Model;
import dev.nearline.api.Ticker;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds synthetic records from a model's signature, so the first real record does not pay for warm-up. */
final class Warmup {
    /** Created on first use: the engine calls {@link #run} on every build, most often with nothing to do. */
    private static final class Log {
        static final Logger LOG = LoggerFactory.getLogger(Warmup.class);
    }

    /** Bytes of synthetic inputs per model at most: a signature declaring huge inputs is not warmed up. */
    static final long MAX_BYTES = 64L << 20;

    private Warmup() {
    }

    /**
     * Zeros (empty strings for BYTES) of every input's declared type and shape, with dynamic dimensions set
     * to 1 and undeclared shapes as {@code [1]}.
     *
     * @throws IllegalArgumentException when the inputs would take more than {@link #MAX_BYTES} (checked
     *     before anything is allocated)
     */
    static Tensors syntheticInputs(ModelSignature signature) {
        long bytes = 0;
        for (TensorSpec spec : signature.inputs()) {
            long[] shape = shape(spec);
            // elementCount refuses more than Integer.MAX_VALUE elements; a String reference counts as 8 bytes.
            long n = Tensor.elementCount(shape);
            bytes += n * (spec.type() == DataType.BYTES ? 8 : Math.max(1, spec.type().byteSize()));
            if (bytes > MAX_BYTES) {
                throw new IllegalArgumentException("warm-up inputs would take more than " + MAX_BYTES + " bytes (input '"
                        + spec.name() + "' " + spec.type() + " " + Arrays.toString(shape) + ")");
            }
        }
        Tensors.Builder b = Tensors.builder();
        for (TensorSpec spec : signature.inputs()) {
            b.add(spec.name(), Tensor.zeros(spec.type(), shape(spec)));
        }
        return b.build();
    }

    private static long[] shape(TensorSpec spec) {
        long[] declared = spec.shape();
        long[] shape = declared == null ? new long[] {1} : declared.clone();
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                shape[i] = 1;
            }
        }
        return shape;
    }

    /**
     * Runs each model of {@code steps} {@code records} times on synthetic inputs, so that the first real record is
     * not the slow one; a model whose warm-up fails is logged and left as it is.
     */
    static void run(String name, Step[] steps, int records, Ticker ticker) {
        if (records <= 0) {
            return;
        }
        for (Step step : steps) {
            Model m = step.model();
            if (m == null) {
                continue;
            }
            long start = ticker.read();
            try {
                Tensors inputs = Warmup.syntheticInputs(m.signature());
                for (int i = 0; i < records; i++) {
                    m.predict(inputs);
                }
                Log.LOG.debug("pipeline '{}': warmed up step '{}' with {} records in {} ms", name, step.name(), records,
                        (ticker.read() - start) / 1_000_000);
            } catch (RuntimeException e) {
                Log.LOG.warn("pipeline '{}': warm-up of step '{}' failed: {}", name, step.name(), e.getMessage());
            }
        }
    }

}
