/** Engine internals; not an API, may change in any release. */
@NullMarked
package dev.nearline.core.internal;

import org.jspecify.annotations.NullMarked;
