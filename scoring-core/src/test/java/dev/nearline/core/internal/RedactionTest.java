package dev.nearline.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RedactionTest {

    @Test
    void url_withCredentialsQueryAndFragment_showsSchemeHostPortPathOnly() {
        assertThat(Redaction.url("https://user:pa55@triton.example:8443/v2/models?sig=abc#frag"))
                .isEqualTo("https://triton.example:8443/v2/models");
        assertThat(Redaction.url("https://acct.blob.core.windows.net/c/b?sv=1&sig=XYZ"))
                .isEqualTo("https://acct.blob.core.windows.net/c/b");
        assertThat(Redaction.url("http://user:pa55 word@host/")).isEqualTo("(not a URL)");
        assertThat(Redaction.url("mailto:someone@example.com")).isEqualTo("mailto:(hidden)");
        assertThat(Redaction.url("triton:8000/x")).doesNotContain("8000/x");
    }

    @Test
    void connectionString_showsEndpointAndEntityOnly() {
        assertThat(Redaction.connectionString("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=root;"
                + "SharedAccessKey=Zm9vYmFy=;EntityPath=requests"))
                .isEqualTo("Endpoint=sb://ns.servicebus.windows.net/;EntityPath=requests");
        assertThat(Redaction.connectionString("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Zm9v==;"
                + "EndpointSuffix=core.windows.net")).isEqualTo("Endpoint=account acct");
        assertThat(Redaction.connectionString("just-a-secret")).isEqualTo("(hidden)");
    }

    @Test
    void isSecretKeyAndPath_recogniseSecretSettings() {
        assertThat(Redaction.isSecretKey("bearerToken")).isTrue();
        assertThat(Redaction.isSecretKey("trustStorePassword")).isTrue();
        assertThat(Redaction.isSecretKey("connection_string")).isTrue();
        assertThat(Redaction.isSecretKey("threshold")).isFalse();
        assertThat(Redaction.isSecretPath("$.steps[0].headers.X-Api-Key")).isTrue();
        assertThat(Redaction.isSecretPath("$.steps[0].tls.trustStorePassword")).isTrue();
        assertThat(Redaction.isSecretPath("$.steps[0].url")).isFalse();
    }

    @Test
    void looksSecret_sasKeysPasswordsAndUserInfo() {
        assertThat(Redaction.looksSecret("https://a.blob.core.windows.net/c?sv=1&sig=abc")).isTrue();
        assertThat(Redaction.looksSecret("Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=b")).isTrue();
        assertThat(Redaction.looksSecret("AccountName=a;AccountKey=b")).isTrue();
        assertThat(Redaction.looksSecret("http://me:pw@host")).isTrue();
        assertThat(Redaction.looksSecret("FP16")).isFalse();
        assertThat(Redaction.looksSecret(null)).isFalse();
    }
}
