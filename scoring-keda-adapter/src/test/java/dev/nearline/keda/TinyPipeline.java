package dev.nearline.keda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nearline.onnx.testing.DemoModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The benchmarks' {@code tiny} model (a 30-feature logistic regression on ONNX Runtime) as a JSON
 * pipeline file ({@code json-features} → {@code onnx} → {@code score}), and deterministic records for it.
 */
final class TinyPipeline {
    static final int FEATURES = 30;
    static final ObjectMapper JSON = new ObjectMapper();

    private TinyPipeline() {
    }

    /** Writes {@code tiny.onnx} and {@code pipeline.json} into {@code dir}; returns the pipeline file. */
    static Path write(Path dir) {
        DemoModels.logistic(dir.resolve("tiny.onnx"), FEATURES, 42);
        String fields = IntStream.range(0, FEATURES).mapToObj(i -> "{\"name\":\"f" + i + "\"}")
                .collect(Collectors.joining(","));
        String json = "{\"name\":\"tiny\","
                + "\"preprocessor\":{\"type\":\"json-features\",\"fields\":[" + fields + "]},"
                + "\"steps\":[{\"name\":\"tiny\",\"type\":\"onnx\",\"path\":\"tiny.onnx\",\"intraOpThreads\":1,"
                + "\"allowSpinning\":false}],"
                + "\"postprocessor\":{\"type\":\"score\"}}";
        Path file = dir.resolve("pipeline.json");
        try {
            Files.writeString(file, json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** Record {@code i} as JSON text: 30 numeric fields drawn from a seed of {@code i}. */
    static String record(int i) {
        SplittableRandom r = new SplittableRandom(i * 7919L + 1);
        return IntStream.range(0, FEATURES).mapToObj(f -> "\"f" + f + "\":" + (float) r.nextDouble(-2, 2))
                .collect(Collectors.joining(",", "{", "}"));
    }

    static JsonNode tree(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
