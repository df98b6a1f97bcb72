/*
 * Copyright 2026 The Nearline Authors
 * SPDX-License-Identifier: Apache-2.0
 */
package dev.nearline.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.path.PathType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The pipeline-file JSON Schema that scoring-core ships ({@code dev/nearline/core/pipeline.schema.json}) against
 * the loader: a file using every built-in key passes both, a wrong file fails both at the same JSON path, every
 * key the loader reads is in the schema, and plugin types stay open. The repository's own pipeline files are
 * checked in scoring-onnx's {@code RepositoryPipelinesTest}, where their {@code onnx} steps can load.
 */
@ExtendWith(ModelLeakChecker.class)
class PipelineSchemaTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SCHEMA_RESOURCE = "pipeline.schema.json";
    private static final JsonNode SCHEMA_TREE = schemaTree();
    private static final Schema SCHEMA = schema();

    /** Every built-in key of scoring-core, each set to a value the loader accepts. */
    private static final String FULL = """
            {
              "name": "fraud",
              "preprocessor": {"type": "json-features", "name": "features", "output": "input", "dtype": "FP32",
                "allowNaN": false, "maxRecordBytes": 4096, "maxDepth": 8, "fields": [
                {"name": "amount"},
                {"name": "age", "default": 30},
                {"name": "country", "categories": ["NL", "DE"], "encoding": "onehot", "unknown": "ignore"},
                {"name": "card", "default": true}
              ]},
              "steps": [{"name": "linear", "type": "fake-linear", "weights": [0.01, -0.02, 1, 2, 0.5], "bias": 0.5,
                         "inputs": {"input": "input"}}],
              "postprocessor": {"type": "score", "name": "score", "output": "score", "index": 0, "threshold": 1.0,
                                "labels": ["ok", "fraud"]},
              "timeout": "30s",
              "closeGracePeriod": "PT1S",
              "maxInFlight": 64,
              "warmup": 2,
              "batching": {"maxBatchSize": 8, "maxQueueDelay": "250us", "sync": "never", "threads": 1},
              "async": {"threads": 1, "queueCapacity": 16},
              "monitoring": {"features": "input", "featureNames": ["amount", "age", "nl", "de", "card"],
                "score": {"output": "score", "index": 0}, "window": 100, "captureReference": 100, "bins": 5,
                "psiThreshold": 0.3, "sampleEvery": 1, "checkEvery": 50,
                "reference": {"amount": {"edges": [10, 100], "proportions": [0.5, 0.3, 0.2]}}}
            }
            """;

    /** The other built-in stages: the tensors preprocessor and the classes postprocessor. */
    private static final String CLASSES = """
            {
              "preprocessor": {"type": "tensors", "name": "v2", "maxRecordBytes": 65536, "maxDepth": 16},
              "steps": [{"type": "fake-softmax", "classes": 3}],
              "postprocessor": {"type": "classes", "name": "best", "output": "probabilities",
                                "labels": ["a", "b", "c"], "topK": 2, "probabilities": false}
            }
            """;

    /** And the tensors postprocessor. */
    private static final String TENSORS = """
            {
              "preprocessor": {"type": "tensors"},
              "steps": [{"type": "fake-softmax", "classes": 2}],
              "postprocessor": {"type": "tensors", "name": "raw"}
            }
            """;

    @BeforeEach
    void forgetCreatedModels() {
        FakeLinearModelProvider.CREATED.clear();
    }

    @Test
    void schema_isAValidDraft7Schema() {
        Schema metaSchema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_7)
                .getSchema(SchemaLocation.of(SpecificationVersion.DRAFT_7.getDialectId()));

        assertThat(metaSchema.validate(SCHEMA_TREE.toString(), InputFormat.JSON)).isEmpty();
        assertThat(SCHEMA_TREE.path("$schema").asText()).isEqualTo("http://json-schema.org/draft-07/schema#");
    }

    @Test
    void builtInPipelines_everyKey_passSchemaAndLoad() {
        for (String pipeline : List.of(FULL, CLASSES, TENSORS)) {
            assertThat(schemaErrors(pipeline)).as(pipeline).isEmpty();
            Pipeline.fromJson(pipeline, Path.of("."), PipelineLoaderTest.PLUGINS).close();
        }
    }

    @Test
    void builtInPipelines_keysTheLoaderReads_areAllInTheSchema() {
        // The loader's unknown-key message lists the keys read at that level; the schema must know each of them.
        // "inputs" is read (and ignored) on every stage; the schema lists it on steps only, where it binds tensors.
        checkKeys(FULL, "$", n -> n, SCHEMA_TREE);
        checkKeys(FULL, "$.batching", n -> n.get("batching"), SCHEMA_TREE.at("/properties/batching"));
        checkKeys(FULL, "$.async", n -> n.get("async"), SCHEMA_TREE.at("/properties/async"));
        checkKeys(FULL, "$.monitoring", n -> n.get("monitoring"), SCHEMA_TREE.at("/properties/monitoring"));
        checkKeys(FULL, "$.monitoring.score", n -> n.at("/monitoring/score"),
                SCHEMA_TREE.at("/properties/monitoring/properties/score"));
        checkKeys(FULL, "$.monitoring.reference.amount", n -> n.at("/monitoring/reference/amount"),
                SCHEMA_TREE.at("/definitions/reference"));
        checkKeys(FULL, "$.preprocessor", n -> n.get("preprocessor"), SCHEMA_TREE.at("/definitions/jsonFeatures"));
        checkKeys(FULL, "$.preprocessor.fields[2]", n -> n.at("/preprocessor/fields/2"),
                SCHEMA_TREE.at("/definitions/jsonFeatures/properties/fields/items"));
        checkKeys(FULL, "$.postprocessor", n -> n.get("postprocessor"),
                SCHEMA_TREE.at("/definitions/scorePostprocessor"));
        checkKeys(CLASSES, "$.preprocessor", n -> n.get("preprocessor"),
                SCHEMA_TREE.at("/definitions/tensorsPreprocessor"));
        checkKeys(CLASSES, "$.postprocessor", n -> n.get("postprocessor"),
                SCHEMA_TREE.at("/definitions/classesPostprocessor"));
        checkKeys(TENSORS, "$.postprocessor", n -> n.get("postprocessor"),
                SCHEMA_TREE.at("/definitions/tensorsPostprocessor"));
    }

    static Stream<Arguments> wrongFiles() {
        return Stream.of(
                wrong("misspelt top-level key", "$.timout", n -> n.put("timout", "30s")),
                wrong("name not a string", "$.name", n -> n.put("name", 5)),
                wrong("no postprocessor", "$.postprocessor", n -> n.remove("postprocessor")),
                wrong("no steps", "$.steps", n -> n.putArray("steps")),
                wrong("step without a type", "$.steps[0].type", n -> step(n).remove("type")),
                wrong("timeout not a duration", "$.timeout", n -> n.put("timeout", "soon")),
                wrong("maxInFlight of 0", "$.maxInFlight", n -> n.put("maxInFlight", 0)),
                wrong("warmup over 10,000", "$.warmup", n -> n.put("warmup", 10_001)),
                wrong("maxBatchSize over 4096", "$.batching.maxBatchSize",
                        n -> obj(n, "batching").put("maxBatchSize", 5000)),
                wrong("unknown sync mode", "$.batching.sync", n -> obj(n, "batching").put("sync", "sometimes")),
                wrong("batching threads over 256", "$.batching.threads", n -> obj(n, "batching").put("threads", 257)),
                wrong("async threads of 0", "$.async.threads", n -> obj(n, "async").put("threads", 0)),
                wrong("misspelt field key", "$.preprocessor.fields[1].defualt",
                        n -> field(n, 1).put("defualt", 30)),
                wrong("field without a name", "$.preprocessor.fields[0].name", n -> field(n, 0).remove("name")),
                wrong("no fields", "$.preprocessor.fields", n -> obj(n, "preprocessor").putArray("fields")),
                wrong("unknown encoding", "$.preprocessor.fields[2].encoding",
                        n -> field(n, 2).put("encoding", "binary")),
                wrong("maxRecordBytes below 1 KiB", "$.preprocessor.maxRecordBytes",
                        n -> obj(n, "preprocessor").put("maxRecordBytes", 100)),
                wrong("maxDepth over 1000", "$.preprocessor.maxDepth",
                        n -> obj(n, "preprocessor").put("maxDepth", 1001)),
                wrong("unknown dtype", "$.preprocessor.dtype", n -> obj(n, "preprocessor").put("dtype", "INT8")),
                wrong("labels without a threshold", "$.postprocessor.labels",
                        n -> obj(n, "postprocessor").remove("threshold")),
                wrong("three score labels", "$.postprocessor.labels",
                        n -> obj(n, "postprocessor").putArray("labels").add("a").add("b").add("c")),
                wrong("score index below -1", "$.postprocessor.index", n -> obj(n, "postprocessor").put("index", -2)),
                wrong("misspelt postprocessor key", "$.postprocessor.treshold",
                        n -> obj(n, "postprocessor").put("treshold", 0.5)),
                wrong("monitoring bins of 1", "$.monitoring.bins", n -> obj(n, "monitoring").put("bins", 1)),
                wrong("psiThreshold of 0", "$.monitoring.psiThreshold",
                        n -> obj(n, "monitoring").put("psiThreshold", 0)),
                wrong("window over 1,000,000", "$.monitoring.window",
                        n -> obj(n, "monitoring").put("window", 1_000_001)),
                wrong("feature named score", "$.monitoring.featureNames",
                        n -> obj(n, "monitoring").putArray("featureNames").add("amount").add("age").add("nl")
                                .add("de").add("score")),
                wrong("negative proportion", "$.monitoring.reference.amount.proportions",
                        n -> ((ArrayNode) n.at("/monitoring/reference/amount/proportions")).set(0, -0.5)),
                wrong("reference without edges", "$.monitoring.reference.amount.edges",
                        n -> ((ObjectNode) n.at("/monitoring/reference/amount")).remove("edges")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wrongFiles")
    void wrongFile_rejectedBySchemaAndLoader_atTheSamePath(String what, String path, Consumer<ObjectNode> change) {
        String pipeline = changed(FULL, change);

        List<Error> errors = schemaErrors(pipeline);
        Throwable loadError = catchThrowable(() -> Pipeline.fromJson(pipeline, Path.of("."), PipelineLoaderTest.PLUGINS)
                .close());

        assertThat(errors).as("schema errors").isNotEmpty();
        // The schema may be more precise than the loader: an element of the array the loader names.
        assertThat(errors.stream().map(PipelineSchemaTest::pathOf)).as("schema error paths of %s", errors)
                .anyMatch(p -> p.equals(path) || p.startsWith(path + "["));
        assertThat(loadError).isInstanceOf(IllegalArgumentException.class);
        assertThat(loadError.getMessage()).contains(path + ":");
        assertThat(FakeLinearModelProvider.CREATED).allMatch(FakeModel::isClosed);
    }

    @Test
    void pluginTypes_unknownToTheSchema_acceptAnyKeys() {
        String pipeline = """
                {
                  "preprocessor": {"type": "my-reader", "anything": {"goes": [1, 2]}},
                  "steps": [{"type": "my-model", "weights": "s3://bucket/w.bin", "inputs": {"x": "input"}},
                            {"type": "clip", "tensor": "x", "min": 0, "max": 1}],
                  "postprocessor": {"type": "my-writer", "format": "avro"}
                }
                """;

        assertThat(schemaErrors(pipeline)).isEmpty();
    }

    @Test
    void builtInChoices_anyLetterCase_acceptedLikeTheLoader() {
        String pipeline = changed(FULL, n -> {
            obj(n, "batching").put("sync", "Never");
            obj(n, "preprocessor").put("dtype", "fp32");
            field(n, 2).put("encoding", "OneHot").put("unknown", "IGNORE");
        });

        assertThat(schemaErrors(pipeline)).isEmpty();
        Pipeline.fromJson(pipeline, Path.of("."), PipelineLoaderTest.PLUGINS).close();
    }

    @Test
    void durations_unitAndIsoForms_acceptedAndOthersRejected() {
        for (String ok : List.of("250us", "250µs", "5 ms", "1.5s", "2m", "1h", "100ns", "PT0.5S", "pt1m", "P1DT2H")) {
            assertThat(schemaErrors(changed(FULL, n -> n.put("closeGracePeriod", ok)))).as(ok).isEmpty();
        }
        for (String bad : List.of("soon", "5", "ms", "5 sec", "-5ms", "PT", "P", "5ms later")) {
            assertThat(schemaErrors(changed(FULL, n -> n.put("closeGracePeriod", bad)))).as(bad).isNotEmpty();
            assertThat(catchThrowable(() -> Pipeline.fromJson(changed(FULL, n -> n.put("closeGracePeriod", bad)),
                    Path.of("."), PipelineLoaderTest.PLUGINS).close())).as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("$.closeGracePeriod:");
        }
    }

    /** Adds an unknown key at {@code path} and checks the keys the loader then reports are in {@code definition}. */
    private static void checkKeys(String pipeline, String path, java.util.function.Function<ObjectNode, JsonNode> at,
                                  JsonNode definition) {
        String withUnknown = changed(pipeline, n -> ((ObjectNode) at.apply(n)).put("zzUnknown", 1));
        Throwable t = catchThrowable(() -> Pipeline.fromJson(withUnknown, Path.of("."), PipelineLoaderTest.PLUGINS)
                .close());
        assertThat(t).as(path).isInstanceOf(IllegalArgumentException.class);
        String message = t.getMessage();
        String marker = path + ".zzUnknown: unknown key; known keys here: [";
        assertThat(message).as(path).contains(marker);
        int start = message.indexOf(marker) + marker.length();
        String list = message.substring(start, message.indexOf(']', start));
        List<String> loaderKeys = new ArrayList<>(Arrays.asList(list.split(", ")));
        if (definition.at("/properties/inputs").isMissingNode()) {
            loaderKeys.remove("inputs");
        }
        List<String> schemaKeys = new ArrayList<>();
        definition.path("properties").fieldNames().forEachRemaining(schemaKeys::add);
        assertThat(schemaKeys).as("schema keys at %s", path).containsAll(loaderKeys);
        assertThat(definition.path("additionalProperties").asBoolean(true)).as("closed at %s", path).isFalse();
        assertThat(schemaErrors(withUnknown)).as("schema on an unknown key at %s", path).isNotEmpty();
        assertThat(FakeLinearModelProvider.CREATED).allMatch(FakeModel::isClosed);
    }

    private static Arguments wrong(String what, String path, Consumer<ObjectNode> change) {
        return Arguments.of(what, path, change);
    }

    private static ObjectNode obj(ObjectNode root, String key) {
        return (ObjectNode) root.get(key);
    }

    private static ObjectNode step(ObjectNode root) {
        return (ObjectNode) root.get("steps").get(0);
    }

    private static ObjectNode field(ObjectNode root, int index) {
        return (ObjectNode) root.get("preprocessor").get("fields").get(index);
    }

    private static String changed(String pipeline, Consumer<ObjectNode> change) {
        try {
            ObjectNode root = (ObjectNode) JSON.readTree(pipeline);
            change.accept(root);
            return JSON.writeValueAsString(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The JSON path an error is about: its location, plus the property that is missing, unknown or dependent. */
    static String pathOf(Error e) {
        String location = e.getInstanceLocation().toString();
        return e.getProperty() == null || location.endsWith("." + e.getProperty()) ? location
                : location + "." + e.getProperty();
    }

    private static List<Error> schemaErrors(String pipeline) {
        return SCHEMA.validate(pipeline, InputFormat.JSON);
    }

    private static JsonNode schemaTree() {
        try (InputStream in = Objects.requireNonNull(Pipeline.class.getResourceAsStream(SCHEMA_RESOURCE),
                SCHEMA_RESOURCE)) {
            return JSON.readTree(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Schema schema() {
        SchemaRegistryConfig config = SchemaRegistryConfig.builder().pathType(PathType.JSON_PATH).build();
        return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_7, b -> b.schemaRegistryConfig(config))
                .getSchema(SCHEMA_TREE.toString(), InputFormat.JSON);
    }
}
