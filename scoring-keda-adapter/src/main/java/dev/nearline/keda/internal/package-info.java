/** Internals of the queue worker: not an API, may change in any release. */
@NullMarked
package dev.nearline.keda.internal;

import org.jspecify.annotations.NullMarked;
