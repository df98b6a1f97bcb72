package dev.nearline.core.internal;

import dev.nearline.api.Preprocessor;

/**
 * A built-in preprocessor whose {@code INVALID_INPUT} messages name the field and what was expected but, by
 * default, never quote the record's values (they may be personal data, and messages reach logs, dead-letter
 * descriptions and replies). {@code Pipeline.Builder.includeValuesInErrors(true)} swaps in the copy that quotes them.
 *
 * @param <I> record type
 */
public interface EchoesValues<I> {
    /** A copy of this preprocessor, identical except that its messages quote record values (clipped). */
    Preprocessor<I> quotingValues();
}
