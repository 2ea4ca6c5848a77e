export * from './api';
export * from './incidents';
export * from './slack';
export * from './jobs';
export * from './sprints';
