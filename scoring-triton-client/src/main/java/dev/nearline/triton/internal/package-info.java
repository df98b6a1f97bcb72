/**
 * Implementation of the Triton client: wire codecs, transports, retries and the circuit breaker.
 * Not an API: anything here may change between releases.
 */
@NullMarked
package dev.nearline.triton.internal;

import org.jspecify.annotations.NullMarked;
