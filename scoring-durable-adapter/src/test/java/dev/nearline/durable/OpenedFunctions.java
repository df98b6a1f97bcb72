package dev.nearline.durable;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The function apps a test opened, closed after each test; register with
 * {@code @RegisterExtension final OpenedFunctions opened = new OpenedFunctions();}.
 */
final class OpenedFunctions implements AfterEachCallback {
    private final List<NearlineFunctions> opened = new ArrayList<>();

    /** Closes {@code f} after the test. */
    void add(NearlineFunctions f) {
        opened.add(f);
    }

    /** A function app over the tiny ONNX pipeline in {@code dir}, with {@code extra} settings, closed after the test. */
    NearlineFunctions onTinyPipeline(Path dir, Map<String, String> extra) {
        Map<String, String> env = TestPipelines.env(TestPipelines.tinyPipeline(dir), dir.resolve("payloads"));
        env.putAll(extra);
        NearlineFunctions f = NearlineFunctions.builder(FunctionsSettings.fromEnvironment(env)).build();
        add(f);
        return f;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        opened.forEach(NearlineFunctions::close);
        opened.clear();
    }
}
