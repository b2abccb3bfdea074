//! Tauri commands: each adapts one `capsmith_core::api` call. Errors cross as `ApiError`
//! (`{kind, message, path?, line?, column?}`), never as bare strings.

use std::path::PathBuf;

use capsmith_core::api::dto::{
    ApiError, CapabilityDetail, CapabilitySummary, ImportOutcome, ValidationReport,
};
use capsmith_core::api::{self};
use serde::Serialize;
use tauri::State;

use crate::AppState;

type Res<T> = Result<T, ApiError>;

#[tauri::command]
pub async fn list_capabilities(
    state: State<'_, AppState>,
    query: Option<String>,
) -> Res<Vec<CapabilitySummary>> {
    Ok(state.core()?.list(query.as_deref()).await?)
}

#[tauri::command]
pub fn validate_source(file_name: String, content: String) -> ValidationReport {
    api::validate_bytes(&file_name, content.as_bytes())
}

#[tauri::command]
pub fn validate_file(path: PathBuf) -> Res<ValidationReport> {
    Ok(api::validate_file(&path)?)
}

#[tauri::command]
pub async fn import_source(
    state: State<'_, AppState>,
    file_name: String,
    content: String,
) -> Res<ImportOutcome> {
    Ok(state
        .core()?
        .import_bytes(&file_name, content.as_bytes())
        .await?)
}

#[tauri::command]
pub async fn import_file(state: State<'_, AppState>, path: PathBuf) -> Res<ImportOutcome> {
    let mut out = state.core()?.import_files(&[path]).await?;
    out.pop().ok_or_else(|| {
        ApiError::from(capsmith_core::CoreError::InvalidArgument(
            "nothing imported".into(),
        ))
    })
}

#[tauri::command]
pub async fn get_capability(
    state: State<'_, AppState>,
    id: String,
    version: Option<String>,
) -> Res<CapabilityDetail> {
    Ok(state.core()?.detail(&id, version.as_deref()).await?)
}

#[tauri::command]
pub async fn remove_capability(
    state: State<'_, AppState>,
    id: String,
    version: Option<String>,
) -> Res<u64> {
    Ok(state.core()?.remove(&id, version.as_deref()).await?)
}

#[tauri::command]
pub async fn export_capability(
    state: State<'_, AppState>,
    id: String,
    version: Option<String>,
    format: String,
) -> Res<String> {
    Ok(state
        .core()?
        .export(&id, version.as_deref(), &format)
        .await?)
}

#[derive(Serialize)]
pub struct AppInfo {
    version: &'static str,
    home: String,
}

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> Res<AppInfo> {
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        home: state.core()?.home().display().to_string(),
    })
}
