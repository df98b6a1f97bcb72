package dev.nearline.onnx.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backend's logger, named after {@link dev.nearline.onnx.OnnxModel}. A holder created on first use:
 * SLF4J's start-up is measurable in a cold start, and these paths rarely log.
 */
final class Log {
    static final Logger LOG = LoggerFactory.getLogger(dev.nearline.onnx.OnnxModel.class);

    private Log() {
    }
}
