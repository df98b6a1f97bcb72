/**
 * Model quality internals: the store of predictions waiting for their labels, the sliding windows of joined
 * pairs and their metrics, and the challenger's hand-off. Not an API; may change in any release.
 */
@NullMarked
package dev.nearline.core.internal.quality;

import org.jspecify.annotations.NullMarked;
