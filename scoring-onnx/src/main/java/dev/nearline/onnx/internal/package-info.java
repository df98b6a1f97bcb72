/**
 * Implementation details of the ONNX Runtime backend; not an API, may change in any release.
 */
@NullMarked
package dev.nearline.onnx.internal;

import org.jspecify.annotations.NullMarked;
