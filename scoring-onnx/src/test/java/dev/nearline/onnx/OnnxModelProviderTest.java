package dev.nearline.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nearline.api.Batching;
import dev.nearline.api.Model;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.api.spi.ModelProvider;
import dev.nearline.onnx.testing.DemoModels;
import dev.nearline.onnx.testing.FakeSettings;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The {@code onnx} model provider: discovery and settings. */
@ExtendWith(ModelLeakCheck.class)
class OnnxModelProviderTest {
    private static final String PATH = "$.steps[0]";

    @TempDir
    Path dir;

    private Map<String, Object> settings(Object... keyValues) {
        Map<String, Object> m = new HashMap<>();
        m.put("path", DemoModels.logistic(dir.resolve("tiny.onnx"), 4, 2).toString());
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return m;
    }

    @Test
    void serviceLoader_findsOnnxProvider() {
        List<ModelProvider> found = ServiceLoader.load(ModelProvider.class).stream()
                .map(ServiceLoader.Provider::get).collect(Collectors.toList());

        assertThat(found).hasSize(1);
        ModelProvider p = found.get(0);
        assertThat(p).isInstanceOf(OnnxModelProvider.class);
        assertThat(p.type()).isEqualTo("onnx");
        assertThat(p.isAvailable()).isTrue();
        assertThat(p.unavailableReason()).isEmpty();
    }

    @Test
    void create_everySetting_readsAllKeysAndPredicts() {
        FakeSettings s = new FakeSettings(PATH, settings("device", "CPU", "deviceId", 0, "fallbackToCpu", false,
                "intraOpThreads", 1, "interOpThreads", 1, "optimization", "extended", "executionMode", "sequential",
                "allowSpinning", false, "batchAxis", 0));

        try (Model model = new OnnxModelProvider().create(s)) {
            assertThat(s.unread()).isEmpty();
            assertThat(model.predict(Tensors.of("input", Tensor.ofFloats(new float[4], 1, 4))).require("score").size())
                    .isEqualTo(1);
        }
    }

    @Test
    void create_unknownDevice_failsNamingTheKey() {
        assertThatThrownBy(() -> new OnnxModelProvider().create(new FakeSettings(PATH, settings("device", "gpu"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("$.steps[0].device: expected one of cpu, cuda, tensorrt, got 'gpu'");
    }

    @Test
    void create_badValues_failNamingTheKey() {
        OnnxModelProvider p = new OnnxModelProvider();
        assertThatThrownBy(() -> p.create(new FakeSettings(PATH, settings("optimization", "max"))))
                .hasMessage("$.steps[0].optimization: expected one of none, basic, extended, all, got 'max'");
        assertThatThrownBy(() -> p.create(new FakeSettings(PATH, settings("executionMode", "async"))))
                .hasMessage("$.steps[0].executionMode: expected one of sequential, parallel, got 'async'");
        assertThatThrownBy(() -> p.create(new FakeSettings(PATH, settings("deviceId", -2))))
                .hasMessage("$.steps[0].deviceId: expected an integer >= 0, got -2");
        assertThatThrownBy(() -> p.create(new FakeSettings(PATH, settings("intraOpThreads", -1))))
                .hasMessage("$.steps[0].intraOpThreads: expected an integer >= 0, got -1");
    }

    @Test
    void create_batchAxis_declaresBatching() {
        OnnxModelProvider p = new OnnxModelProvider();
        try (Model model = p.create(new FakeSettings(PATH, settings()))) {
            assertThat(model.batching()).isEqualTo(Batching.undeclared());
        }
        try (Model model = p.create(new FakeSettings(PATH, settings("batchAxis", 0)))) {
            assertThat(model.batching()).isEqualTo(Batching.alongAxis(0));
        }
        FakeSettings none = new FakeSettings(PATH, settings("batchAxis", "None"));
        try (Model model = p.create(none)) {
            assertThat(model.batching()).isEqualTo(Batching.none());
            assertThat(none.unread()).isEmpty();
        }
    }

    @Test
    void create_badBatchAxis_failsNamingTheKey() {
        OnnxModelProvider p = new OnnxModelProvider();
        assertThatThrownBy(() -> p.create(new FakeSettings(PATH, settings("batchAxis", -1))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("$.steps[0].batchAxis: expected an integer >= 0 or \"none\", got -1");
        assertThatThrownBy(() -> p.create(new FakeSettings(PATH, settings("batchAxis", "rows"))))
                .hasMessage("$.steps[0].batchAxis: expected an integer >= 0 or \"none\", got 'rows'");
        assertThatThrownBy(() -> p.create(new FakeSettings(PATH, settings("batchAxis", true))))
                .hasMessage("$.steps[0].batchAxis: expected an integer >= 0 or \"none\"");
        // the model's input is [-1, 4]
        assertThatThrownBy(() -> p.create(new FakeSettings(PATH, settings("batchAxis", 1))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("$.steps[0].batchAxis: model '")
                .hasMessageContaining("input 'input' [-1, 4] has a fixed size of 4 on axis 1");
        assertThatThrownBy(() -> p.create(new FakeSettings(PATH, settings("batchAxis", 2))))
                .hasMessageStartingWith("$.steps[0].batchAxis: model '")
                .hasMessageContaining("has no axis 2");
    }

    @Test
    void create_cudaWithoutGpu_failsNamingDevice_unlessFallback() {
        OnnxModelProvider p = new OnnxModelProvider();
        assertThatThrownBy(() -> p.create(new FakeSettings(PATH, settings("device", "cuda"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("$.steps[0].device: device cuda:0 requested");

        try (Model model = p.create(new FakeSettings(PATH, settings("device", "cuda", "fallbackToCpu", true)))) {
            assertThat(((OnnxModel) model).device()).isEqualTo(OnnxModel.Device.CPU);
        }
    }

    @Test
    void create_missingFile_failsNamingPathAndFile() {
        Map<String, Object> m = settings();
        m.put("path", dir.resolve("missing.onnx").toString());

        assertThatThrownBy(() -> new OnnxModelProvider().create(new FakeSettings(PATH, m)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("$.steps[0].path: ONNX model file not found")
                .hasMessageContaining("missing.onnx");
    }
}
