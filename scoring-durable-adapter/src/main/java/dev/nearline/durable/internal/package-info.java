/** Adapter internals; not an API, may change in any release. */
@NullMarked
package dev.nearline.durable.internal;

import org.jspecify.annotations.NullMarked;
