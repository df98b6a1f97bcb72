package dev.nearline.triton.internal;

import dev.nearline.api.DataType;
import java.nio.ByteBuffer;

/**
 * One output tensor as a response carried it, before checks: name, datatype, shape and its
 * elements in the v2 binary layout (little-endian; BYTES with 4-byte length prefixes). JSON and
 * typed gRPC contents are converted to this layout so that one path checks and splits them all.
 *
 * @param name  output name
 * @param type  datatype
 * @param shape dimensions as the server reported them (not yet checked)
 * @param data  the elements, position to limit
 */
public record RawOutput(String name, DataType type, long[] shape, ByteBuffer data) {
}
