package dev.nearline.triton.internal;

import java.util.List;

/**
 * What a v2 server says about itself ({@code GET /v2}, {@code ServerMetadata}).
 *
 * @param name       server name, such as {@code triton}
 * @param version    server version
 * @param extensions protocol extensions, such as {@code binary_tensor_data}
 */
public record ServerMetadata(String name, String version, List<String> extensions) {

    /** Copies the list. */
    public ServerMetadata {
        extensions = List.copyOf(extensions);
    }

    /** Whether the server advertises {@code extension}. */
    public boolean supports(String extension) {
        return extensions.contains(extension);
    }
}
