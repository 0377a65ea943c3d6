/**
 * SkyPilot managed jobs as a SkyDeck backend, and S3 (or S3-compatible) checkpoints.
 */
package dev.skydeck.skypilot;
