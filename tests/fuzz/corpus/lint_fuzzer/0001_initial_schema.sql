-- revision: 0001
-- down_revision:
-- create_date: 2024-01-01T00:00:00
-- message: Initial schema

-- migrate:upgrade
-- uuid_generate_v4() comes from uuid-ossp.
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";

CREATE TABLE users (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    email VARCHAR(255) UNIQUE NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    full_name VARCHAR(255),
    is_active BOOLEAN DEFAULT true,
    is_verified BOOLEAN DEFAULT false,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE identity_documents (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    user_id UUID REFERENCES users(id) ON DELETE CASCADE,
    document_type VARCHAR(100) NOT NULL,
    document_number VARCHAR(255),
    issuing_country VARCHAR(100),
    issue_date DATE,
    expiry_date DATE,
    extracted_data JSONB,
    file_path VARCHAR(500),
    s3_key VARCHAR(500),
    status VARCHAR(50) DEFAULT 'pending',
    verification_notes TEXT,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE ocr_jobs (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    user_id UUID REFERENCES users(id) ON DELETE CASCADE,
    document_id UUID REFERENCES identity_documents(id) ON DELETE CASCADE,
    job_status VARCHAR(50) DEFAULT 'pending',
    input_file_path VARCHAR(500),
    output_data JSONB,
    error_message TEXT,
    processing_time_ms INTEGER,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE audit_logs (
    id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    user_id UUID REFERENCES users(id) ON DELETE SET NULL,
    action VARCHAR(100) NOT NULL,
    resource_type VARCHAR(100),
    resource_id UUID,
    details JSONB,
    ip_address INET,
    user_agent TEXT,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP
);

-- PostgreSQL does not index foreign keys by itself; deletes of a user would
-- scan every child table without these.
CREATE INDEX ix_identity_documents_user_id ON identity_documents (user_id);
CREATE INDEX ix_ocr_jobs_user_id ON ocr_jobs (user_id);
CREATE INDEX ix_ocr_jobs_document_id ON ocr_jobs (document_id);
CREATE INDEX ix_audit_logs_user_id ON audit_logs (user_id);

-- migrate:downgrade
DROP TABLE audit_logs;
DROP TABLE ocr_jobs;
DROP TABLE identity_documents;
DROP TABLE users;
-- Back to base means back to what was there before. If other objects in the
-- database use uuid-ossp, this fails and names them (nothing is dropped with
-- it): remove this line in a copy of the migration then.
DROP EXTENSION IF EXISTS "uuid-ossp";
