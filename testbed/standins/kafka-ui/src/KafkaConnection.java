// TEST DOUBLE part of the kafka-ui stand-in: opens a connection to a broker the way a Kafka client
// does for the cluster's `security.protocol`: PLAINTEXT; SSL and SASL_SSL with the trust store of
// `ssl.truststore.location` (type PEM or the JVM's PKCS12/JKS) and host name verification (Kafka's
// default ssl.endpoint.identification.algorithm=https); SASL_PLAINTEXT and SASL_SSL with
// `sasl.mechanism` PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (RFC 5802) and the username/password of
// `sasl.jaas.config`, over SaslHandshake v1 + SaslAuthenticate v0. Errors say what a Kafka client says.

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Base64;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

final class KafkaConnection {
  private static final byte[] CLIENT_ID = "kafka-ui-standin".getBytes(StandardCharsets.UTF_8);
  private static int correlation = 1000;

  private KafkaConnection() {
  }

  static String str(Object value, String fallback) {
    return value == null ? fallback : String.valueOf(value);
  }

  /** A connected, authenticated socket to host:port. */
  static Socket open(String host, int port, Map<String, Object> props) throws IOException {
    String protocol = str(props.get("security.protocol"), "PLAINTEXT").toUpperCase();
    if (!protocol.matches("PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL")) {
      throw new IOException("Unknown security protocol " + protocol);
    }
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress(host, port), 5000);
    socket.setSoTimeout(10000);
    if (protocol.endsWith("SSL")) {
      try {
        SSLSocket tls = (SSLSocket) sslContext(props).getSocketFactory().createSocket(socket, host, port, true);
        SSLParameters parameters = tls.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        tls.setSSLParameters(parameters);
        tls.startHandshake();
        socket = tls;
      } catch (GeneralSecurityException e) {
        socket.close();
        throw new IOException("SSL handshake failed: " + e, e);
      } catch (IOException e) {
        socket.close();
        throw new IOException("SSL handshake failed: " + e.getMessage(), e);
      }
    }
    if (protocol.startsWith("SASL_")) {
      try {
        authenticate(socket, props);
      } catch (IOException e) {
        socket.close();
        throw e;
      }
    }
    return socket;
  }

  private static SSLContext sslContext(Map<String, Object> props) throws GeneralSecurityException, IOException {
    SSLContext context = SSLContext.getInstance("TLS");
    String location = str(props.get("ssl.truststore.location"), "");
    if (location.isEmpty()) {
      context.init(null, null, null);
      return context;
    }
    String type = str(props.get("ssl.truststore.type"), "JKS").toUpperCase();
    KeyStore store;
    if (type.equals("PEM")) {
      store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      try (InputStream in = Files.newInputStream(Path.of(location))) {
        int n = 0;
        for (Certificate cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
          store.setCertificateEntry("ca-" + n++, cert);
        }
      }
    } else {
      store = KeyStore.getInstance(type);
      String password = str(props.get("ssl.truststore.password"), "");
      try (InputStream in = Files.newInputStream(Path.of(location))) {
        store.load(in, password.toCharArray());
      }
    }
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(store);
    context.init(null, trust.getTrustManagers(), null);
    return context;
  }

  private static String jaasOption(String jaas, String key) {
    Matcher m = Pattern.compile(key + "=\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(jaas);
    return m.find() ? m.group(1).replaceAll("\\\\(.)", "$1") : null;
  }

  private static void authenticate(Socket socket, Map<String, Object> props) throws IOException {
    String mechanism = str(props.get("sasl.mechanism"), "GSSAPI");
    String jaas = str(props.get("sasl.jaas.config"), "");
    String user = jaasOption(jaas, "username");
    String password = jaasOption(jaas, "password");
    if (user == null || password == null) {
      throw new IOException("Could not find a 'KafkaClient' entry in the JAAS configuration (sasl.jaas.config "
          + "without username and password)");
    }
    DataOutputStream out = new DataOutputStream(socket.getOutputStream());
    DataInputStream in = new DataInputStream(socket.getInputStream());
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    writeString(new DataOutputStream(body), mechanism);
    DataInputStream handshake = call(out, in, (short) 17, (short) 1, body.toByteArray());
    short error = handshake.readShort();
    if (error != 0) {
      throw new IOException("Unsupported SASL mechanism " + mechanism + " (error " + error + ")");
    }
    if (mechanism.equals("PLAIN")) {
      exchange(out, in, ("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8), mechanism);
      return;
    }
    if (!mechanism.startsWith("SCRAM-SHA-")) {
      throw new IOException("the kafka-ui stand-in does not speak SASL " + mechanism);
    }
    String bits = mechanism.substring("SCRAM-SHA-".length());
    String hmac = "HmacSHA" + bits;
    String nonce = Base64.getEncoder().encodeToString(new SecureRandom().generateSeed(18));
    String bare = "n=" + user.replace("=", "=3D").replace(",", "=2C") + ",r=" + nonce;
    String serverFirst = new String(exchange(out, in, ("n,," + bare).getBytes(StandardCharsets.UTF_8), mechanism),
        StandardCharsets.UTF_8);
    String serverNonce = field(serverFirst, "r");
    if (serverNonce == null || !serverNonce.startsWith(nonce)) {
      throw new IOException("Invalid server nonce in SCRAM exchange");
    }
    byte[] salt = Base64.getDecoder().decode(field(serverFirst, "s"));
    int iterations = Integer.parseInt(field(serverFirst, "i"));
    try {
      byte[] salted = hi(hmac, password.getBytes(StandardCharsets.UTF_8), salt, iterations);
      byte[] clientKey = mac(hmac, salted, "Client Key".getBytes(StandardCharsets.UTF_8));
      byte[] storedKey = MessageDigest.getInstance("SHA-" + bits).digest(clientKey);
      String withoutProof = "c=biws,r=" + serverNonce;
      byte[] authMessage = (bare + "," + serverFirst + "," + withoutProof).getBytes(StandardCharsets.UTF_8);
      byte[] signature = mac(hmac, storedKey, authMessage);
      byte[] proof = new byte[clientKey.length];
      for (int i = 0; i < proof.length; i++) {
        proof[i] = (byte) (clientKey[i] ^ signature[i]);
      }
      String clientFinal = withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof);
      String serverFinal = new String(exchange(out, in, clientFinal.getBytes(StandardCharsets.UTF_8), mechanism),
          StandardCharsets.UTF_8);
      byte[] serverKey = mac(hmac, salted, "Server Key".getBytes(StandardCharsets.UTF_8));
      String expected = "v=" + Base64.getEncoder().encodeToString(mac(hmac, serverKey, authMessage));
      if (!serverFinal.equals(expected)) {
        throw new IOException("Invalid server signature in SCRAM exchange");
      }
    } catch (GeneralSecurityException e) {
      throw new IOException(e);
    }
  }

  private static String field(String message, String key) {
    for (String part : message.split(",")) {
      if (part.startsWith(key + "=")) {
        return part.substring(key.length() + 1);
      }
    }
    return null;
  }

  private static byte[] mac(String algorithm, byte[] key, byte[] data) throws GeneralSecurityException {
    Mac mac = Mac.getInstance(algorithm);
    mac.init(new SecretKeySpec(key, algorithm));
    return mac.doFinal(data);
  }

  private static byte[] hi(String algorithm, byte[] password, byte[] salt, int iterations)
      throws GeneralSecurityException {
    Mac mac = Mac.getInstance(algorithm);
    mac.init(new SecretKeySpec(password, algorithm));
    mac.update(salt);
    byte[] u = mac.doFinal(new byte[] {0, 0, 0, 1});
    byte[] result = u.clone();
    for (int i = 1; i < iterations; i++) {
      u = mac.doFinal(u);
      for (int j = 0; j < result.length; j++) {
        result[j] ^= u[j];
      }
    }
    return result;
  }

  /** One SaslAuthenticate v0 round: sends ``token``, returns the broker's bytes or throws its error. */
  private static byte[] exchange(DataOutputStream out, DataInputStream in, byte[] token, String mechanism)
      throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    DataOutputStream b = new DataOutputStream(body);
    b.writeInt(token.length);
    b.write(token);
    DataInputStream response = call(out, in, (short) 36, (short) 0, body.toByteArray());
    short error = response.readShort();
    short length = response.readShort();
    String message = null;
    if (length >= 0) {
      byte[] text = new byte[length];
      response.readFully(text);
      message = new String(text, StandardCharsets.UTF_8);
    }
    if (error != 0) {
      throw new IOException(message != null ? message
          : "Authentication failed with SASL mechanism " + mechanism + " (error " + error + ")");
    }
    byte[] reply = new byte[response.readInt()];
    response.readFully(reply);
    return reply;
  }

  /** Sends one request (header v1) and returns the response body after the correlation id. */
  static DataInputStream call(DataOutputStream out, DataInputStream in, short apiKey, short version, byte[] body)
      throws IOException {
    int id;
    synchronized (KafkaConnection.class) {
      id = ++correlation;
    }
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    DataOutputStream req = new DataOutputStream(buffer);
    req.writeShort(apiKey);
    req.writeShort(version);
    req.writeInt(id);
    req.writeShort(CLIENT_ID.length);
    req.write(CLIENT_ID);
    req.write(body);
    out.writeInt(buffer.size());
    buffer.writeTo(out);
    out.flush();
    byte[] response = new byte[in.readInt()];
    in.readFully(response);
    DataInputStream r = new DataInputStream(new java.io.ByteArrayInputStream(response));
    if (r.readInt() != id) {
      throw new IOException("correlation id mismatch");
    }
    return r;
  }

  private static void writeString(DataOutputStream out, String value) throws IOException {
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    out.writeShort(bytes.length);
    out.write(bytes);
  }
}
