-- compose.yaml: one database per service on the shared PostgreSQL server.
CREATE DATABASE feedback_intake;
CREATE DATABASE membership;
CREATE DATABASE notification;
CREATE DATABASE reporting;
CREATE DATABASE console;
