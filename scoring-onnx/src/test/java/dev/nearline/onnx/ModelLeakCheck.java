package dev.nearline.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test that leaves open an {@link OnnxModel} (and with it a native session) it registered with
 * {@link #track}: a model held outside a try-with-resources block, or handed to an engine that must close
 * it. Tests run one at a time (the surefire default), so one global list suffices.
 */
final class ModelLeakCheck implements BeforeEachCallback, AfterEachCallback {
    private static final Queue<OnnxModel> TRACKED = new ConcurrentLinkedQueue<>();

    /** Registers {@code model} to be closed by the end of the running test; returns it. */
    static OnnxModel track(OnnxModel model) {
        TRACKED.add(model);
        return model;
    }

    /** The registered models not closed yet (a child JVM without the extension reports this). */
    static List<OnnxModel> open() {
        return TRACKED.stream().filter(m -> !m.isClosed()).collect(Collectors.toList());
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        TRACKED.clear();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        List<OnnxModel> open = open();
        TRACKED.clear();
        assertThat(open).as("OnnxModels left open by " + context.getDisplayName()).isEmpty();
    }
}
