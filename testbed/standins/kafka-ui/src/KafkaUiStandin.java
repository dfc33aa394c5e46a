// TEST DOUBLE of kafka-ui (kafbat/kafka-ui), built by kafka-stack-ansible's test bed. NOT kafka-ui.
//
// Honours the contracts the kafka_ui role relies on (see testbed/README.md):
//  - started as `java --add-opens java.rmi/javax.rmi.ssl=ALL-UNNAMED [JAVA_OPTS]
//    -Dspring.config.additional-location=<file.yml> -jar <jar>`; refuses to start without that file,
//    on a Java older than the release needs (like UnsupportedClassVersionError), or with a cluster
//    whose name or bootstrapServers is blank (kafka-ui's @NotBlank);
//  - reads server.port, auth.type, spring.security.user.{name,password}, kafka.clusters[].{name,
//    bootstrapServers,readOnly,properties} and kafka.update-metrics-rate-millis from that YAML;
//  - serves /actuator/health, the login form (SESSION cookie) at /login as kafbat does, at /auth as
//    provectus 0.7.2 does, /logout, /api/clusters,
//    /api/clusters/{name}/brokers and /api/clusters/{name}/topics with kafka-ui's field names; with
//    auth.type LOGIN_FORM every /api/** request needs a session (401, or 302 to /login for browsers);
//  - computes status, brokerCount, topicCount and onlinePartitionCount with Kafka's own AdminClient
//    (the real kafka-clients jar, bundled), given the cluster's bootstrapServers and client properties
//    (security.protocol, ssl.*, sasl.*), on start and then every update-metrics-rate-millis.

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;

public final class KafkaUiStandin {

  static final String BANNER = "kafka-ui STAND-IN (test double of kafka-ui %s, NOT kafka-ui) - kafka-stack-ansible test bed";

  static Map<String, Object> config;
  static final List<ClusterState> CLUSTERS = new ArrayList<>();
  static final Set<String> SESSIONS = ConcurrentHashMap.newKeySet();
  static final SecureRandom RANDOM = new SecureRandom();

  public static void main(String[] args) throws Exception {
    // The bundled slf4j-simple binding: the AdminClient's warnings and errors, on stderr.
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", System.getProperty("standin.log.level", "warn"));
    String version = System.getProperty("standin.version", manifest("Implementation-Version", "?"));
    System.out.println(String.format(BANNER, version));
    int requiredJava = Integer.parseInt(manifest("Standin-Required-Java", "17"));
    int runningJava = Runtime.version().feature();
    if (runningJava < requiredJava) {
      die("java.lang.UnsupportedClassVersionError: this kafka-ui release needs Java " + requiredJava
          + " or newer; this runtime is Java " + runningJava);
    }
    List<String> jvmArgs = ManagementFactory.getRuntimeMXBean().getInputArguments();
    if (!String.join(" ", jvmArgs).contains("java.rmi/javax.rmi.ssl=ALL-UNNAMED")) {
      die("started without --add-opens java.rmi/javax.rmi.ssl=ALL-UNNAMED (kafka-ui's documented command)");
    }
    String location = System.getProperty("spring.config.additional-location", "");
    if (location.isBlank()) {
      die("no -Dspring.config.additional-location: the stand-in reads its whole configuration from that file");
    }
    config = new LinkedHashMap<>();
    for (String entry : location.split(",")) {
      String path = entry.trim().replaceFirst("^optional:", "").replaceFirst("^file:", "");
      if (!Files.isReadable(Path.of(path))) {
        die("Config data resource 'file [" + path + "]' via location '" + entry.trim() + "' does not exist");
      }
      config.putAll(MiniYaml.parse(Files.readString(Path.of(path))));
    }
    List<Object> clusters = asList(get("kafka.clusters"));
    for (int i = 0; i < clusters.size(); i++) {
      Map<String, Object> c = asMap(clusters.get(i));
      String name = str(c.get("name"));
      String bootstrap = str(c.get("bootstrapServers"));
      if (name.isBlank() || bootstrap.isBlank()) {
        die("Binding to target [Bindable@kafka.clusters[" + i + "]] failed: name and bootstrapServers must not be blank");
      }
      CLUSTERS.add(new ClusterState(name, bootstrap, "true".equals(str(c.get("readOnly"))), asMap(c.get("properties"))));
    }
    long rate = Long.parseLong(str(get("kafka.update-metrics-rate-millis"), "30000"));
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    scheduler.scheduleWithFixedDelay(() -> CLUSTERS.forEach(ClusterState::refresh), 0, rate, TimeUnit.MILLISECONDS);

    int port = Integer.parseInt(str(get("server.port"), "8080"));
    String address = str(get("server.address"), "0.0.0.0");
    HttpServer server = HttpServer.create(new InetSocketAddress(address, port), 50);
    server.createContext("/", KafkaUiStandin::handle);
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.start();
    System.out.println("auth.type " + authType() + "; " + CLUSTERS.size() + " cluster(s); listening on "
        + address + ":" + port + " (stand-in)");
  }

  static void die(String message) {
    System.err.println("kafka-ui stand-in refuses to start: " + message);
    System.exit(1);
  }

  static String manifest(String key, String fallback) {
    try (InputStream in = KafkaUiStandin.class.getResourceAsStream("/META-INF/MANIFEST.MF")) {
      if (in != null) {
        for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\r?\n")) {
          if (line.startsWith(key + ": ")) {
            return line.substring(key.length() + 2).trim();
          }
        }
      }
    } catch (IOException ignored) {
      // fall through
    }
    return fallback;
  }

  // ---- configuration helpers ---------------------------------------------------------------------

  static Object get(String dotted) {
    Object node = config;
    String rest = dotted;
    while (node instanceof Map && !rest.isEmpty()) {
      Map<?, ?> map = (Map<?, ?>) node;
      if (map.containsKey(rest)) {
        return map.get(rest);
      }
      int dot = rest.indexOf('.');
      if (dot < 0) {
        return null;
      }
      node = map.get(rest.substring(0, dot));
      rest = rest.substring(dot + 1);
    }
    return null;
  }

  static String authType() {
    return str(get("auth.type"), "DISABLED").toUpperCase();
  }

  static String str(Object value) {
    return value == null ? "" : String.valueOf(value);
  }

  static String str(Object value, String fallback) {
    String s = str(value);
    return s.isBlank() ? fallback : s;
  }

  @SuppressWarnings("unchecked")
  static List<Object> asList(Object value) {
    return value instanceof List ? (List<Object>) value : new ArrayList<>();
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> asMap(Object value) {
    return value instanceof Map ? (Map<String, Object>) value : new LinkedHashMap<>();
  }

  // ---- HTTP --------------------------------------------------------------------------------------

  static void handle(HttpExchange ex) throws IOException {
    try {
      route(ex);
    } catch (RuntimeException e) {
      send(ex, 500, Json.write(Map.of("error", String.valueOf(e))), "application/json");
    } finally {
      ex.close();
    }
  }

  /** The login form's page and processing URL: provectus 0.7.2's is /auth, kafbat's /login. */
  static String loginPath() {
    return manifest("Implementation-Version", "").startsWith("0.") ? "/auth" : "/login";
  }

  static void route(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    String method = ex.getRequestMethod();
    boolean loginForm = "LOGIN_FORM".equals(authType());
    String login = loginPath();
    if (path.equals("/actuator/health") || path.startsWith("/actuator/health/")) {
      send(ex, 200, "{\"status\":\"UP\"}", "application/json");
    } else if (path.equals("/actuator/info")) {
      send(ex, 200, "{}", "application/json");
    } else if (path.equals(login) && method.equals("POST")) {
      Map<String, String> form = parseForm(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      boolean ok = loginForm
          && form.getOrDefault("username", "").equals(str(get("spring.security.user.name"), "user"))
          && form.getOrDefault("password", "").equals(str(get("spring.security.user.password")))
          && !str(get("spring.security.user.password")).isEmpty();
      if (ok) {
        byte[] id = new byte[24];
        RANDOM.nextBytes(id);
        String session = Base64.getUrlEncoder().withoutPadding().encodeToString(id);
        SESSIONS.add(session);
        ex.getResponseHeaders().add("Set-Cookie", "SESSION=" + session + "; Path=/; HttpOnly; SameSite=Lax");
        redirect(ex, "/");
      } else {
        redirect(ex, login + "?error");
      }
    } else if (path.equals(login)) {
      send(ex, 200, "<!DOCTYPE html><html><body><p>kafka-ui STAND-IN (test double)</p><form method=\"post\" "
          + "action=\"" + login + "\"><input name=\"username\"><input name=\"password\" type=\"password\">"
          + "<button type=\"submit\">Sign in</button></form></body></html>", "text/html");
    } else if (path.equals("/logout")) {
      String session = session(ex);
      if (session != null) {
        SESSIONS.remove(session);
      }
      redirect(ex, login + "?logout");
    } else if (loginForm && session(ex) == null) {
      String accept = String.valueOf(ex.getRequestHeaders().getFirst("Accept"));
      if (accept.contains("text/html")) {
        redirect(ex, login);
      } else {
        ex.sendResponseHeaders(401, -1);
      }
    } else if (path.equals("/api/clusters") && method.equals("GET")) {
      List<Object> body = new ArrayList<>();
      for (int i = 0; i < CLUSTERS.size(); i++) {
        body.add(CLUSTERS.get(i).describe(i == 0));
      }
      send(ex, 200, Json.write(body), "application/json");
    } else if (path.startsWith("/api/clusters/") && method.equals("GET")) {
      String[] parts = path.substring("/api/clusters/".length()).split("/");
      ClusterState cluster = CLUSTERS.stream().filter(c -> parts.length > 0 && c.name.equals(parts[0]))
          .findFirst().orElse(null);
      if (cluster == null || parts.length != 2) {
        send(ex, 404, "{\"code\":4007,\"message\":\"No such cluster\"}", "application/json");
      } else if (parts[1].equals("brokers")) {
        send(ex, 200, Json.write(cluster.brokers()), "application/json");
      } else if (parts[1].equals("topics")) {
        send(ex, 200, Json.write(cluster.topics()), "application/json");
      } else {
        send(ex, 404, "{\"message\":\"Not served by the stand-in\"}", "application/json");
      }
    } else if (path.equals("/") || path.equals("/index.html")) {
      send(ex, 200, "<!DOCTYPE html><html><body><h1>kafka-ui STAND-IN</h1><p>Test double of kafka-ui used by "
          + "kafka-stack-ansible's test bed; the real UI is not here. REST: /api/clusters</p></body></html>",
          "text/html");
    } else {
      send(ex, 404, "{\"message\":\"Not found\"}", "application/json");
    }
  }

  static String session(HttpExchange ex) {
    for (String header : ex.getRequestHeaders().getOrDefault("Cookie", List.of())) {
      for (String cookie : header.split(";")) {
        String[] kv = cookie.trim().split("=", 2);
        if (kv.length == 2 && kv[0].equals("SESSION") && SESSIONS.contains(kv[1])) {
          return kv[1];
        }
      }
    }
    return null;
  }

  static Map<String, String> parseForm(String body) {
    Map<String, String> form = new LinkedHashMap<>();
    for (String pair : body.split("&")) {
      String[] kv = pair.split("=", 2);
      if (kv.length == 2) {
        form.put(URLDecoder.decode(kv[0], StandardCharsets.UTF_8), URLDecoder.decode(kv[1], StandardCharsets.UTF_8));
      }
    }
    return form;
  }

  static void redirect(HttpExchange ex, String location) throws IOException {
    ex.getResponseHeaders().add("Location", location);
    ex.sendResponseHeaders(302, -1);
  }

  static void send(HttpExchange ex, int status, String body, String type) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", type);
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  // ---- one configured cluster and what the last Metadata request said about it --------------------

  static final class ClusterState {
    final String name;
    final String bootstrap;
    final boolean readOnly;
    final Map<String, Object> properties;
    volatile String status = "initializing";
    volatile String lastError;
    volatile Metadata metadata;

    ClusterState(String name, String bootstrap, boolean readOnly, Map<String, Object> properties) {
      this.name = name;
      this.bootstrap = bootstrap;
      this.readOnly = readOnly;
      this.properties = properties;
    }

    void refresh() {
      try {
        metadata = Metadata.fetch(bootstrap, properties);
        status = "online";
        lastError = null;
      } catch (Exception e) {
        Throwable cause = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
        fail(bootstrap + ": " + cause);
      }
    }

    void fail(String message) {
      status = "offline";
      lastError = message;
      metadata = null;
      System.err.println("cluster " + name + " offline: " + message);
    }

    Map<String, Object> describe(boolean first) {
      Map<String, Object> c = new LinkedHashMap<>();
      Metadata m = metadata;
      c.put("name", name);
      c.put("defaultCluster", first);
      c.put("status", status);
      c.put("lastError", lastError == null ? null : Map.of("message", lastError));
      c.put("brokerCount", m == null ? null : m.brokers.size());
      c.put("onlinePartitionCount", m == null ? null : m.onlinePartitions());
      c.put("topicCount", m == null ? null : m.topics.size());
      c.put("bytesInPerSec", null);
      c.put("bytesOutPerSec", null);
      c.put("readOnly", readOnly);
      c.put("version", null);
      c.put("features", List.of());
      return c;
    }

    List<Object> brokers() {
      List<Object> out = new ArrayList<>();
      Metadata m = metadata;
      if (m != null) {
        for (Metadata.Broker b : m.brokers) {
          Map<String, Object> broker = new LinkedHashMap<>();
          broker.put("id", b.id);
          broker.put("host", b.host);
          broker.put("port", b.port);
          broker.put("bytesInPerSec", null);
          broker.put("bytesOutPerSec", null);
          broker.put("partitionsLeader", m.leaderCount(b.id));
          broker.put("partitions", m.replicaCount(b.id));
          out.add(broker);
        }
      }
      return out;
    }

    Map<String, Object> topics() {
      List<Object> topics = new ArrayList<>();
      Metadata m = metadata;
      if (m != null) {
        for (Metadata.Topic t : m.topics) {
          Map<String, Object> topic = new LinkedHashMap<>();
          topic.put("name", t.name);
          topic.put("internal", t.internal);
          topic.put("partitionCount", t.partitions);
          topic.put("replicationFactor", t.replicationFactor);
          topic.put("inSyncReplicas", t.inSync);
          topics.add(topic);
        }
      }
      return Map.of("pageCount", 1, "topics", topics);
    }
  }

  // ---- the cluster as Kafka's own AdminClient (kafka-clients) describes it ---------------------------

  static final class Metadata {
    static final class Broker {
      int id;
      String host;
      int port;
    }

    static final class Topic {
      String name;
      boolean internal;
      int partitions;
      int online;
      int replicationFactor;
      List<Integer> leaders = new ArrayList<>();
      List<Integer> replicas = new ArrayList<>();
      int inSync;
    }

    final List<Broker> brokers = new ArrayList<>();
    final List<Topic> topics = new ArrayList<>();

    int onlinePartitions() {
      return topics.stream().mapToInt(t -> t.online).sum();
    }

    long leaderCount(int id) {
      return topics.stream().flatMap(t -> t.leaders.stream()).filter(l -> l == id).count();
    }

    long replicaCount(int id) {
      return topics.stream().flatMap(t -> t.replicas.stream()).filter(r -> r == id).count();
    }

    /** The cluster's brokers and topics, through an AdminClient with the cluster's client properties. */
    static Metadata fetch(String bootstrap, Map<String, Object> properties) throws Exception {
      Properties config = new Properties();
      properties.forEach((key, value) -> config.put(key, String.valueOf(value)));
      config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      config.put(AdminClientConfig.CLIENT_ID_CONFIG, "kafka-ui-standin");
      config.putIfAbsent(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
      config.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
      try (Admin admin = Admin.create(config)) {
        Metadata m = new Metadata();
        for (Node node : admin.describeCluster().nodes().get(20, TimeUnit.SECONDS)) {
          Broker b = new Broker();
          b.id = node.id();
          b.host = node.host();
          b.port = node.port();
          m.brokers.add(b);
        }
        Set<String> names = admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get(20, TimeUnit.SECONDS);
        Map<String, TopicDescription> described = admin.describeTopics(names).allTopicNames().get(20, TimeUnit.SECONDS);
        for (TopicDescription d : new TreeMap<>(described).values()) {
          Topic t = new Topic();
          t.name = d.name();
          t.internal = d.isInternal();
          for (TopicPartitionInfo p : d.partitions()) {
            t.partitions++;
            t.leaders.add(p.leader() == null ? -1 : p.leader().id());
            p.replicas().forEach(r -> t.replicas.add(r.id()));
            t.replicationFactor = Math.max(t.replicationFactor, p.replicas().size());
            t.inSync += p.isr().size();
            if (p.leader() != null && p.leader().id() >= 0) {
              t.online++;
            }
          }
          m.topics.add(t);
        }
        return m;
      }
    }
  }
}
