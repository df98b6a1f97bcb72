/*
 * Copyright 2026 The Nearline Authors
 * SPDX-License-Identifier: Apache-2.0
 */
package dev.nearline.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nearline.api.Scorer;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.core.Pipeline;
import dev.nearline.onnx.OnnxModel;
import dev.nearline.onnx.testing.DemoModels;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user does first with the published artifacts: score a record from code, load a pipeline file, and
 * find the pipeline schema. Also checks the artifacts are the published form: resolved from the staging
 * repository, flattened poms, licence files in the jars.
 */
class ConsumerSmokeTest {
    private static final List<String> MODULES = List.of("scoring-api", "scoring-core", "scoring-onnx",
            "scoring-triton-client", "scoring-durable-adapter", "scoring-keda-adapter");

    @TempDir
    Path dir;

    @Test
    void scorer_builtInCode_scoresARecord() {
        Path model = DemoModels.logistic(dir.resolve("tiny.onnx"), 4, 42);

        try (Scorer<float[], Float> scorer = Pipeline
                .builder((float[] r) -> Tensors.of("input", Tensor.ofFloats(r, 1, r.length)))
                .model(OnnxModel.builder(model).intraOpThreads(1).build())
                .timeout(Duration.ofSeconds(10))
                .build(out -> out.get(0).floatAt(0))) {
            float p = scorer.score(new float[] {0.1f, 0.2f, 0.3f, 0.4f});

            assertTrue(p > 0 && p < 1, "a probability, got " + p);
        }
    }

    @Test
    void pipelineFile_quickStartPipeline_loadsAndScores() throws IOException {
        Path pipeline = Files.copy(Path.of(System.getProperty("nearline.pipeline")), dir.resolve("fraud-pipeline.json"));
        DemoModels.logistic(dir.resolve("fraud.onnx"), 13, 7);

        try (Scorer<Object, Object> scorer = Pipeline.load(pipeline)) {
            Object result = scorer.score(Map.of("amount", 912.5, "merchantCategory", "electronics", "foreign", true));

            Map<?, ?> map = (Map<?, ?>) result;
            assertEquals(List.of("score", "decision", "label"), List.copyOf(map.keySet()));
            assertTrue(List.of("legit", "review").contains(map.get("label")), "label " + map.get("label"));
        }
    }

    @Test
    void pipelineSchema_shipsInScoringCore() throws IOException {
        try (InputStream in = Pipeline.class.getResourceAsStream("/dev/nearline/core/pipeline.schema.json")) {
            assertNotNull(in, "dev/nearline/core/pipeline.schema.json in scoring-core's jar");
            String schema = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(schema.contains("\"title\": \"Nearline pipeline file\""));
        }
    }

    @Test
    void artifacts_comeFromTheStagingRepository_inTheirPublishedForm() throws IOException, URISyntaxException {
        Path jar = Path.of(Pipeline.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path repository = Path.of(System.getProperty("nearline.localRepository"));
        String version = System.getProperty("nearline.version");

        assertTrue(jar.startsWith(repository), jar + " is not from " + repository);
        try (JarFile jarFile = new JarFile(jar.toFile())) {
            assertNotNull(jarFile.getEntry("META-INF/LICENSE"), "META-INF/LICENSE in " + jar);
            assertNotNull(jarFile.getEntry("META-INF/NOTICE"), "META-INF/NOTICE in " + jar);
            assertEquals("dev.nearline.core", jarFile.getManifest().getMainAttributes().getValue("Automatic-Module-Name"));
        }
        for (String module : MODULES) {
            Path folder = repository.resolve("dev/nearline").resolve(module).resolve(version);
            if (!Files.isDirectory(folder)) {
                continue; // not a dependency of this consumer
            }
            try (var poms = Files.list(folder)) {
                for (Path pom : (Iterable<Path>) poms.filter(p -> p.toString().endsWith(".pom"))::iterator) {
                    String text = Files.readString(pom);
                    assertFalse(text.contains("${"), pom + " has an unresolved property");
                    assertFalse(text.contains("<parent>"), pom + " names a parent");
                    assertTrue(text.contains("<scm") && text.contains("<developers>") && text.contains("<licenses>"),
                            pom + " lacks scm, developers or licenses");
                }
            }
        }
    }
}
