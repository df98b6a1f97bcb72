/*
 * Copyright 2026 The Nearline Authors
 * SPDX-License-Identifier: Apache-2.0
 */
package dev.nearline.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.path.PathType;
import dev.nearline.api.Scorer;
import dev.nearline.core.Pipeline;
import dev.nearline.onnx.testing.DemoModels;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every pipeline in the repository (pipeline files, pipelines embedded in Kubernetes manifests, full pipelines
 * in the READMEs) validates against the JSON Schema that scoring-core ships, and loads with the real loader
 * and ONNX Runtime on a demo model of the right width; a wrong {@code onnx} step fails the schema and the
 * loader at the same JSON path. The built-in keys are checked in scoring-core's {@code PipelineSchemaTest}.
 */
class RepositoryPipelinesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Schema SCHEMA = schema();
    /** A block scalar holding JSON in a YAML file, such as a ConfigMap's {@code pipeline.json: |}. */
    private static final Pattern YAML_JSON_BLOCK = Pattern.compile("^(\\s*)([\\w.-]+\\.json):\\s*\\|[-+]?\\s*$");
    /** Directories that hold no pipeline of ours. */
    private static final Set<String> SKIPPED = Set.of(".git", "target", "node_modules", ".idea", ".vscode");

    @TempDir
    Path dir;

    /** A pipeline found in the repository: where, and its JSON. */
    record Found(String source, ObjectNode json) {
    }

    @Test
    void repositoryPipelines_all_validateAgainstTheSchema() {
        List<Found> found = repositoryPipelines();

        assertThat(found.stream().map(Found::source)).contains(
                "examples/quickstart/src/main/resources/quickstart/fraud-pipeline.json",
                "examples/durable-functions/src/main/pipeline/fraud-pipeline.json",
                "examples/keda-worker/k8s/configmap-pipeline.yaml (pipeline.json)");
        assertThat(found.stream().map(Found::source)).anyMatch(s -> s.startsWith("README.md (block at line"));
        List<String> problems = new ArrayList<>();
        for (Found f : found) {
            for (Error e : SCHEMA.validate(f.json().toString(), InputFormat.JSON)) {
                problems.add(f.source() + ": " + pathOf(e) + ": " + e.getMessage());
            }
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void repositoryPipelines_onnxOnly_loadOnDemoModelsAndScore() throws IOException {
        int loaded = 0;
        for (Found f : repositoryPipelines()) {
            Path file = onDemoModel(f);
            if (file == null) {
                continue;
            }
            try (Scorer<Object, Object> scorer = Pipeline.load(file)) {
                assertThat(scorer.score(record(f.json()))).as(f.source()).isInstanceOf(Map.class);
            } catch (RuntimeException e) {
                throw new AssertionError(f.source() + " does not load: " + e.getMessage(), e);
            }
            loaded++;
        }
        assertThat(loaded).as("pipelines loaded").isGreaterThanOrEqualTo(4);
    }

    static Stream<Arguments> wrongOnnxSteps() {
        return Stream.of(
                wrong("misspelt key", "$.steps[0].devcie", s -> s.put("devcie", "cpu")),
                wrong("unknown device", "$.steps[0].device", s -> s.put("device", "gpu")),
                wrong("negative deviceId", "$.steps[0].deviceId", s -> s.put("deviceId", -1)),
                wrong("unknown optimization", "$.steps[0].optimization", s -> s.put("optimization", "max")),
                wrong("unknown execution mode", "$.steps[0].executionMode", s -> s.put("executionMode", "eager")),
                wrong("negative thread count", "$.steps[0].intraOpThreads", s -> s.put("intraOpThreads", -1)),
                wrong("batchAxis neither integer nor none", "$.steps[0].batchAxis", s -> s.put("batchAxis", "rows")),
                wrong("fallbackToCpu not a boolean", "$.steps[0].fallbackToCpu", s -> s.put("fallbackToCpu", "yes")),
                wrong("empty path", "$.steps[0].path", s -> s.put("path", "")),
                wrong("no path", "$.steps[0].path", s -> s.remove("path")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wrongOnnxSteps")
    void wrongOnnxStep_rejectedBySchemaAndLoader_atTheSamePath(String what, String path, Consumer<ObjectNode> change)
            throws IOException {
        ObjectNode pipeline = (ObjectNode) JSON.readTree("""
                {
                  "preprocessor": {"type": "json-features", "fields": [{"name": "a"}, {"name": "b", "default": 0}]},
                  "steps": [{"name": "m", "type": "onnx", "path": "m.onnx", "intraOpThreads": 1}],
                  "postprocessor": {"type": "score"}
                }
                """);
        DemoModels.logistic(dir.resolve("m.onnx"), 2, 1);
        change.accept((ObjectNode) pipeline.get("steps").get(0));
        Path file = Files.writeString(dir.resolve("wrong.json"), pipeline.toString());

        List<Error> errors = SCHEMA.validate(pipeline.toString(), InputFormat.JSON);
        Throwable loadError = catchThrowable(() -> Pipeline.load(file).close());

        assertThat(errors.stream().map(RepositoryPipelinesTest::pathOf)).as("schema errors %s", errors).contains(path);
        assertThat(loadError).isInstanceOf(IllegalArgumentException.class);
        assertThat(loadError.getMessage()).contains(path + ":");
    }

    /**
     * A copy of {@code f} in its own folder whose single {@code onnx} step runs a demo logistic regression as
     * wide as the json-features row; null for a pipeline that cannot run that way (other stages, a GPU, chains).
     */
    private Path onDemoModel(Found f) throws IOException {
        ObjectNode json = f.json().deepCopy();
        JsonNode pre = json.path("preprocessor");
        JsonNode steps = json.path("steps");
        if (!pre.path("type").asText().equals("json-features") || !pre.path("output").asText("input").equals("input")
                || steps.size() != 1 || !steps.get(0).path("type").asText().equals("onnx")
                || !steps.get(0).path("device").asText("cpu").equalsIgnoreCase("cpu")) {
            return null;
        }
        int width = 0;
        for (JsonNode field : pre.path("fields")) {
            boolean index = field.path("encoding").asText("onehot").equalsIgnoreCase("index");
            width += field.has("categories") && !index ? field.get("categories").size() : 1;
        }
        Path folder = Files.createDirectories(dir.resolve("p" + Math.abs(f.source().hashCode())));
        DemoModels.logistic(folder.resolve("model.onnx"), width, 7);
        ((ObjectNode) steps.get(0)).put("path", "model.onnx");
        for (JsonNode step : json.path("challenger").path("steps")) {
            if (step.path("type").asText().equals("onnx")) {
                ((ObjectNode) step).put("path", "model.onnx"); // a challenger of the same width
            }
        }
        return Files.writeString(folder.resolve("pipeline.json"), json.toPrettyString());
    }

    /** A record with every json-features field: its first category, or 1. */
    private static Map<String, Object> record(JsonNode pipeline) {
        Map<String, Object> record = new java.util.LinkedHashMap<>();
        for (JsonNode field : pipeline.at("/preprocessor/fields")) {
            JsonNode categories = field.path("categories");
            record.put(field.get("name").asText(), categories.size() > 0 ? categories.get(0).asText() : (Object) 1.0);
        }
        return record;
    }

    /** Pipelines in the repository's JSON files, in its Markdown (```json blocks) and in its YAML block scalars. */
    static List<Found> repositoryPipelines() {
        Path root = repositoryRoot();
        List<Found> found = new ArrayList<>();
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                    return SKIPPED.contains(String.valueOf(d.getFileName())) ? FileVisitResult.SKIP_SUBTREE
                            : FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    String name = file.getFileName().toString();
                    String source = root.relativize(file).toString().replace('\\', '/');
                    if (name.endsWith(".json")) {
                        addIfPipeline(found, source, Files.readString(file), true);
                    } else if (name.endsWith(".md")) {
                        markdownBlocks(found, source, Files.readAllLines(file, StandardCharsets.UTF_8));
                    } else if (name.endsWith(".yaml") || name.endsWith(".yml")) {
                        yamlBlocks(found, source, Files.readAllLines(file, StandardCharsets.UTF_8));
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return found;
    }

    private static void markdownBlocks(List<Found> found, String source, List<String> lines) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).trim().equals("```json")) {
                int start = i + 1;
                StringBuilder block = new StringBuilder();
                for (i = start; i < lines.size() && !lines.get(i).trim().equals("```"); i++) {
                    block.append(lines.get(i)).append('\n');
                }
                // Fragments (one key, elided parts) are not pipelines and do not parse as one.
                addIfPipeline(found, source + " (block at line " + start + ")", block.toString(), false);
            }
        }
    }

    private static void yamlBlocks(List<Found> found, String source, List<String> lines) {
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = YAML_JSON_BLOCK.matcher(lines.get(i));
            if (!m.matches()) {
                continue;
            }
            int keyIndent = m.group(1).length();
            StringBuilder block = new StringBuilder();
            int j = i + 1;
            while (j < lines.size() && (lines.get(j).isBlank() || indent(lines.get(j)) > keyIndent)) {
                block.append(lines.get(j)).append('\n');
                j++;
            }
            addIfPipeline(found, source + " (" + m.group(2) + ")", block.toString(), true);
            i = j - 1;
        }
    }

    private static int indent(String line) {
        int n = 0;
        while (n < line.length() && line.charAt(n) == ' ') {
            n++;
        }
        return n;
    }

    /** Adds {@code text} when it is a pipeline: a JSON object with steps. A JSON file that does not parse fails. */
    private static void addIfPipeline(List<Found> found, String source, String text, boolean mustParse) {
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            if (mustParse) {
                throw new AssertionError(source + " is not valid JSON: " + e.getOriginalMessage(), e);
            }
            return;
        }
        if (node instanceof ObjectNode && node.has("steps")) {
            found.add(new Found(source, (ObjectNode) node));
        }
    }

    /** The checkout: the parent of this module's folder, where surefire runs the tests. */
    private static Path repositoryRoot() {
        Path root = Path.of("").toAbsolutePath().getParent();
        try {
            String pom = Files.readString(root.resolve("pom.xml"));
            assertThat(pom).as("root pom at %s", root).contains("<artifactId>nearline-parent</artifactId>");
        } catch (IOException e) {
            throw new UncheckedIOException("no root pom.xml at " + root, e);
        }
        return root;
    }

    private static Arguments wrong(String what, String path, Consumer<ObjectNode> change) {
        return Arguments.of(what, path, change);
    }

    /** The JSON path an error is about: its location, plus the property that is missing or unknown. */
    private static String pathOf(Error e) {
        String location = e.getInstanceLocation().toString();
        return e.getProperty() == null || location.endsWith("." + e.getProperty()) ? location
                : location + "." + e.getProperty();
    }

    private static Schema schema() {
        try (InputStream in = Objects.requireNonNull(Pipeline.class.getResourceAsStream("pipeline.schema.json"),
                "dev/nearline/core/pipeline.schema.json")) {
            SchemaRegistryConfig config = SchemaRegistryConfig.builder().pathType(PathType.JSON_PATH).build();
            return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_7, b -> b.schemaRegistryConfig(config))
                    .getSchema(new String(in.readAllBytes(), StandardCharsets.UTF_8), InputFormat.JSON);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
