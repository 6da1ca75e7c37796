import { err } from '../../common/app-error.js';

export const EventErrors = {
  notFound: err('RESOURCE_NOT_FOUND', 'Event not found'),
  projectNotFound: err('RESOURCE_NOT_FOUND', 'Project not found'),
};
