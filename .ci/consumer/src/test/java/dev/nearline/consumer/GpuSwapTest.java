/*
 * Copyright 2026 The Nearline Authors
 * SPDX-License-Identifier: Apache-2.0
 */
package dev.nearline.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.nearline.api.Scorer;
import dev.nearline.core.Pipeline;
import dev.nearline.onnx.testing.DemoModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU artifact swap of scoring-onnx's README (run with -Pgpu): the build resolves with onnxruntime_gpu
 * alone, and a {@code "device": "cuda"} step fails with the documented error where no GPU is present, or
 * runs on the CPU with {@code fallbackToCpu}.
 */
class GpuSwapTest {
    /** The sentence the README promises in the error (scoring-onnx README, "Errors" and "Switching to the GPU"). */
    private static final String DOCUMENTED = "GPU devices need the onnxruntime_gpu artifact instead of onnxruntime, "
            + "an NVIDIA GPU, CUDA 12 and cuDNN 9";

    @TempDir
    Path dir;

    @Test
    void classPath_gpuSwap_holdsTheGpuBuildOfOnnxRuntimeOnly() throws IOException {
        ClassLoader loader = GpuSwapTest.class.getClassLoader();

        assertEquals(1, Collections.list(loader.getResources("ai/onnxruntime/OrtEnvironment.class")).size(),
                "exactly one ONNX Runtime jar");
        assertNotNull(loader.getResource("ai/onnxruntime/native/linux-x64/libonnxruntime_providers_cuda.so"),
                "the CUDA provider, which only onnxruntime_gpu ships");
    }

    @Test
    void pipelineFile_cudaWithoutGpu_failsWithTheDocumentedError() throws IOException {
        assumeFalse(gpuPresent(), "an NVIDIA GPU is present");
        Path pipeline = pipeline("\"device\": \"cuda\"");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Pipeline.load(pipeline).close());

        assertTrue(e.getMessage().contains("$.steps[0].device: device cuda:0"), e.getMessage());
        assertTrue(e.getMessage().contains(DOCUMENTED), e.getMessage());
    }

    @Test
    void pipelineFile_cudaWithFallback_scoresOnTheCpu() throws IOException {
        assumeFalse(gpuPresent(), "an NVIDIA GPU is present");
        try (Scorer<Object, Object> scorer = Pipeline.load(pipeline("\"device\": \"cuda\", \"fallbackToCpu\": true"))) {
            assertTrue(scorer.score(Map.of("a", 1, "b", 2)) instanceof Map);
        }
    }

    @Test
    void pipelineFile_cudaOnAGpu_scores() throws IOException {
        assumeTrue(gpuPresent(), "no NVIDIA GPU here");
        try (Scorer<Object, Object> scorer = Pipeline.load(pipeline("\"device\": \"cuda\""))) {
            assertTrue(scorer.score(Map.of("a", 1, "b", 2)) instanceof Map);
        }
    }

    private Path pipeline(String device) throws IOException {
        DemoModels.logistic(dir.resolve("m.onnx"), 2, 3);
        return Files.writeString(dir.resolve("gpu-pipeline.json"), """
                {
                  "preprocessor": {"type": "json-features", "fields": [{"name": "a"}, {"name": "b"}]},
                  "steps": [{"type": "onnx", "path": "m.onnx", %s}],
                  "postprocessor": {"type": "score", "threshold": 0.5}
                }
                """.formatted(device));
    }

    private static boolean gpuPresent() {
        return Files.exists(Path.of("/dev/nvidiactl"));
    }
}
