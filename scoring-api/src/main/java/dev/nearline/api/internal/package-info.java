/**
 * Helpers shared by Nearline's own modules; not an API for users, and free to change in any release.
 */
@NullMarked
package dev.nearline.api.internal;

import org.jspecify.annotations.NullMarked;
