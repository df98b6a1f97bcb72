package dev.nearline.core;

import dev.nearline.api.Model;
import dev.nearline.api.spi.ModelProvider;
import dev.nearline.api.spi.Settings;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/** {@code fake-linear}: a {@link FakeLinearModel} from {@code weights}, {@code bias}, {@code input}, {@code output}. */
public final class FakeLinearModelProvider implements ModelProvider {
    /** Every model this provider created, across instances, so tests can check they were closed. */
    public static final Queue<FakeLinearModel> CREATED = new ConcurrentLinkedQueue<>();

    @Override
    public String type() {
        return "fake-linear";
    }

    @Override
    public Model create(Settings s) {
        List<Double> w = s.numbers("weights");
        if (w.isEmpty()) {
            throw s.error("weights", "needs at least one weight");
        }
        float[] weights = new float[w.size()];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = w.get(i).floatValue();
        }
        FakeLinearModel m = new FakeLinearModel(s.string("input", "input"), s.string("output", "score"), weights,
                (float) s.number("bias", 0));
        CREATED.add(m);
        return m;
    }
}
