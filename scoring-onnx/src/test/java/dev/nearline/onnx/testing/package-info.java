/**
 * Test helpers shared with other modules through the test jar: readers for the third-party models
 * under {@code ../shared/models} and a map-backed {@code Settings}.
 */
@NullMarked
package dev.nearline.onnx.testing;

import org.jspecify.annotations.NullMarked;
