/**
 * ONNX Runtime backend: {@link dev.nearline.onnx.OnnxModel} runs an ONNX file in-process (CPU, or
 * CUDA/TensorRT with {@code onnxruntime_gpu}); {@link dev.nearline.onnx.OnnxModelProvider} creates it
 * for pipeline steps of type {@code onnx}.
 */
@NullMarked
package dev.nearline.onnx;

import org.jspecify.annotations.NullMarked;
