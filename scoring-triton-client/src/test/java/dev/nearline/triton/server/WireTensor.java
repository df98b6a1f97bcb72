package dev.nearline.triton.server;

/**
 * A tensor as the test server handles it: v2 datatype name, shape and elements in the v2 binary
 * layout (little-endian; BYTES with 4-byte length prefixes).
 */
public record WireTensor(String name, String datatype, long[] shape, byte[] data) {
}
