/**
 * The SkyDeck server: the REST API, live events (SSE) and the dashboard over HTTP.
 */
package dev.skydeck.server;
