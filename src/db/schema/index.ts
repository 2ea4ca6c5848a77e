export * from './api';
export * from './incidents';
export * from './slack';
