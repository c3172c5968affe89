-- Prefect keeps its own state apart from the history tables.
CREATE DATABASE prefect OWNER sdb;
