/**
 * A {@link dev.nearline.api.Model} that calls a remote NVIDIA Triton Inference Server, or any
 * server that speaks the KServe v2 / Open Inference Protocol, over REST (JSON or Triton's binary
 * tensor extension) or gRPC. Start at {@link dev.nearline.triton.TritonModel#builder}; pipeline
 * files reach it through the {@code triton} model type ({@link dev.nearline.triton.TritonModelProvider}).
 */
@NullMarked
package dev.nearline.triton;

import org.jspecify.annotations.NullMarked;
