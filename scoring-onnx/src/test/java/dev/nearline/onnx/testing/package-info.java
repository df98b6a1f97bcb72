/**
 * Test fixtures shared with other modules, the benchmarks and the examples through the test jar (never
 * part of the main jar): {@code DemoModels} and the {@code OnnxModelWriter} it uses to write small ONNX
 * models, readers for the third-party models under {@code ../shared/models}, and a map-backed
 * {@code Settings}.
 */
@NullMarked
package dev.nearline.onnx.testing;

import org.jspecify.annotations.NullMarked;
