export * from './api';
export * from './changes';
export * from './incidents';
export * from './slack';
