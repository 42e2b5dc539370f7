-- One-time bootstrap of a Xinqiao database, run by a PostgreSQL superuser:
--   psql -v owner_password="'...'" -v app_password="'...'" -f deploy/bootstrap.sql
-- Creates the owner role (runs migrations, owns every object) and the app role (what the
-- API and worker connect as: owns nothing, cannot bypass row-level security).
CREATE ROLE xinqiao_owner LOGIN PASSWORD :owner_password NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS;
CREATE ROLE xinqiao_app LOGIN PASSWORD :app_password NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS;
CREATE DATABASE xinqiao OWNER xinqiao_owner;
\connect xinqiao
ALTER SCHEMA public OWNER TO xinqiao_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO xinqiao_app;
