package dev.nearline.durable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nearline.api.DataType;
import dev.nearline.api.Model;
import dev.nearline.api.ModelSignature;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensor;
import dev.nearline.api.TensorSpec;
import dev.nearline.api.Tensors;
import dev.nearline.core.Pipeline;
import dev.nearline.durable.internal.Json;
import dev.nearline.onnx.testing.DemoModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;

/** Pipelines the tests score with: the ONNX {@code tiny} model from a JSON file, and code-built fakes. */
final class TestPipelines {
    static final int FEATURES = 30;

    private TestPipelines() {
    }

    /**
     * Writes {@code tiny.onnx} (DemoModels' 30-feature logistic regression) and {@code pipeline.json}
     * (json-features f0..f29 without defaults, so a missing field is INVALID_INPUT; onnx; score with a
     * threshold) into {@code dir}; returns the pipeline file.
     */
    static Path tinyPipeline(Path dir) {
        DemoModels.logistic(dir.resolve("tiny.onnx"), FEATURES, 42L);
        ObjectNode p = Json.MAPPER.createObjectNode().put("name", "tiny");
        ObjectNode pre = p.putObject("preprocessor").put("type", "json-features");
        ArrayNode fields = pre.putArray("fields");
        for (int i = 0; i < FEATURES; i++) {
            fields.addObject().put("name", "f" + i);
        }
        p.putArray("steps").addObject().put("name", "tiny").put("type", "onnx").put("path", "tiny.onnx")
                .put("intraOpThreads", 1);
        p.putObject("postprocessor").put("type", "score").put("threshold", 0.5);
        Path file = dir.resolve("pipeline.json");
        try {
            Files.writeString(file, Json.write(p));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** A good record for the tiny pipeline, its values derived from {@code i}. */
    static ObjectNode record(int i) {
        ObjectNode r = Json.MAPPER.createObjectNode();
        for (int f = 0; f < FEATURES; f++) {
            r.put("f" + f, ((i * 31 + f * 17) % 200) / 100.0 - 1.0);
        }
        return r;
    }

    /** A record the tiny pipeline rejects with INVALID_INPUT: field f7 is missing. */
    static ObjectNode badRecord(int i) {
        ObjectNode r = record(i);
        r.remove("f7");
        return r;
    }

    /** The settings map the tests start from: the pipeline and a payload folder. */
    static Map<String, String> env(Path pipeline, Path payloads) {
        Map<String, String> env = new HashMap<>();
        env.put(FunctionsSettings.PIPELINE, pipeline.toString());
        env.put(FunctionsSettings.PAYLOAD_DIR, payloads.toString());
        return env;
    }

    /**
     * A code-built scorer over JSON records {@code {"x": n}}: the output is {@code {"score": x}}. A
     * record with {@code "fail": "KIND"} fails with that kind; records for which {@code failing} says so
     * fail with UNAVAILABLE while {@code transientFailures} is above zero (each such failure uses one).
     */
    static Scorer<Object, Object> fake(AtomicInteger transientFailures, IntPredicate failing) {
        return Pipeline.builder((Object r) -> {
            JsonNode n = (JsonNode) r;
            if (n.has("fail")) {
                throw new ScoringException(ScoringException.Kind.valueOf(n.get("fail").asText()),
                        "injected " + n.get("fail").asText());
            }
            int x = n.path("x").asInt();
            if (failing.test(x) && transientFailures.getAndDecrement() > 0) {
                throw new ScoringException(ScoringException.Kind.UNAVAILABLE, "backend down for record x=" + x);
            }
            return Tensors.of("input", Tensor.ofFloats(new float[] {x}, 1, 1));
        }).name("fake").model(new EchoModel()).build(out -> Map.of("score", out.get(0).floatAt(0)));
    }

    /** A scorer that never fails. */
    static Scorer<Object, Object> fake() {
        return fake(new AtomicInteger(), x -> false);
    }

    /** Returns its input as {@code score}. */
    static final class EchoModel implements Model {
        private static final ModelSignature SIGNATURE = new ModelSignature(
                List.of(TensorSpec.of("input", DataType.FP32, -1, 1)), List.of(TensorSpec.of("score", DataType.FP32, -1, 1)));

        @Override
        public ModelSignature signature() {
            return SIGNATURE;
        }

        @Override
        public Tensors predict(Tensors inputs) {
            return Tensors.of("score", inputs.require("input"));
        }

        @Override
        public void close() {
        }
    }
}
