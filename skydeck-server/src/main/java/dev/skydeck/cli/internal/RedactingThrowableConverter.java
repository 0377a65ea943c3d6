package dev.skydeck.cli.internal;

import ch.qos.logback.classic.pattern.ThrowableProxyConverter;
import ch.qos.logback.classic.spi.IThrowableProxy;
import dev.skydeck.Secrets;

/** Stack traces with every secret SkyDeck knows replaced (an exception's message may quote one). */
public final class RedactingThrowableConverter extends ThrowableProxyConverter {
    @Override
    protected String throwableProxyToString(IThrowableProxy tp) {
        return Secrets.redact(super.throwableProxyToString(tp));
    }
}
